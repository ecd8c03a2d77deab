"""Measure one engine step (restore JSON, advance, save JSON) on a 30-state flow: time and memory.

Run ``python -m bench.engine_step [--steps N]``. A step is exactly what one request does with
the shared compiled machine; the timing pass runs without tracemalloc, the memory pass after it.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import resource
import sys
import time
import tracemalloc
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

from bot.engine.compile import QUESTION_KEYS, compile_flow, menu_keys
from bot.engine.loader import LoadedFlow, load_text
from bot.engine.model import EndState, MenuState, QuestionState, TextState
from bot.engine.registry import FlowRegistry
from bot.engine.runner import BACK_KEY, advance, begin
from bot.engine.state import SessionState, Step
from bot.engine.validate import LANGUAGES, Catalog, flow_texts, validate
from bot.i18n import ui
from bot.i18n.catalog import Catalogs
from bot.i18n.translate import Translate

FLOW_FILE = Path(__file__).resolve().parent / "flows" / "bench30.yaml"
AIM_US = 200.0
STATES = 30
INVALID = "7"
INVALID_SHARE = 0.05
BACK_SHARE = 0.05
SENTENCE = (
    "they took my passport and I cannot leave the farm the boss says I owe money for the "
    "transport and food we work every day from morning to night my sister is also there"
)
WORDS = SENTENCE.split()

Request = Callable[[FlowRegistry, str, str, Translate], tuple[Step, str | None]]


@dataclass(frozen=True)
class Setup:
    """The validated, compiled flow and its catalogs, as the bot would hold them at start-up."""

    loaded: LoadedFlow
    registry: FlowRegistry
    catalogs: Catalogs


def tagged_catalogs(loaded: LoadedFlow) -> Catalogs:
    """Every flow and UI text translated as ``<LANG> text`` (as in the tests): none missing."""
    ui_texts = [v for k, v in vars(ui).items() if k.isupper() and isinstance(v, str)]
    texts = [t for _, t in flow_texts(loaded.definition)] + ui_texts
    tagged = {lang: {t: f"{lang.upper()} {t}" for t in texts} for lang in LANGUAGES[1:]}
    return Catalogs({"en": {}, **tagged})


def build(path: Path = FLOW_FILE) -> Setup:
    """Load, validate (must be clean) and compile the benchmark flow into a registry."""
    loaded = load_text(path.read_text(encoding="utf-8"), path.name)
    catalogs = tagged_catalogs(loaded)
    issues = validate([loaded], Catalog(catalogs.gettext, catalogs.has))
    if issues:
        raise SystemExit("benchmark flow is invalid:\n" + "\n".join(str(i) for i in issues))
    if len(loaded.definition.states) != STATES:
        raise SystemExit(f"benchmark flow must have {STATES} states")
    return Setup(loaded, FlowRegistry([compile_flow(loaded)]), catalogs)


def request(
    registry: FlowRegistry, stored: str, raw: str, tr: Translate
) -> tuple[Step, str | None]:
    """One request on the shared machine: restore from the store's JSON, advance, serialise back."""
    step = advance(registry, SessionState.from_dict(json.loads(stored)), raw, tr)
    return step, json.dumps(step.state.to_dict()) if step.state is not None else None


def request_fresh_machine(
    registry: FlowRegistry, stored: str, raw: str, tr: Translate
) -> tuple[Step, str | None]:
    """The rejected design: build a new Machine for every request, then do the same step."""
    fresh = FlowRegistry(compile_flow(c.loaded) for c in registry.current())
    return request(fresh, stored, raw, tr)


@dataclass
class Driver:
    """Simulated people in interleaved sessions kept as JSON; picks inputs outside the timing."""

    setup: Setup
    seed: int
    sessions: int
    rng: random.Random = field(init=False)
    store: list[str] = field(init=False)
    where: list[str] = field(init=False)
    visited: set[str] = field(init=False, default_factory=set)
    endings: Counter[str] = field(init=False, default_factory=Counter)
    events: Counter[str] = field(init=False, default_factory=Counter)
    turn: int = field(init=False, default=0)
    end_by_text: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        definition = self.setup.loaded.definition
        tr = self.setup.catalogs.gettext
        self.end_by_text = {
            tr(lang, s.text): name
            for name, s in definition.states.items()
            if isinstance(s, EndState)
            for lang in LANGUAGES
        }
        self.store, self.where = [], []
        for _ in range(self.sessions):
            self.store.append("")
            self.where.append("")
            self._start(len(self.store) - 1)

    def _start(self, slot: int) -> None:
        """A new conversation: what the bot does when a person with no session writes."""
        lang = self.rng.choice(LANGUAGES)
        step = begin(self.setup.registry, self.setup.loaded.name, lang, self.setup.catalogs.gettext)
        assert step.state is not None
        self.store[slot] = json.dumps(step.state.to_dict())
        self.where[slot] = step.state.state
        self.visited.add(step.state.state)

    def next_request(self) -> tuple[int, str, str]:
        """(session slot, its stored JSON, the person's next input), round-robin over sessions."""
        slot = self.turn % self.sessions
        self.turn += 1
        return slot, self.store[slot], self._input(self.where[slot])

    def _input(self, name: str) -> str:
        """A plausible input for the screen a session is on, sometimes invalid or back."""
        rng = self.rng
        roll = rng.random()
        if roll < INVALID_SHARE:
            return INVALID
        if roll < INVALID_SHARE + BACK_SHARE:
            return BACK_KEY
        screen = self.setup.loaded.definition.states[name]
        if isinstance(screen, MenuState):
            keys = menu_keys(screen)
            if name == "menu":  # most people come to check their situation or to report
                return rng.choices(keys, weights=(20, 50, 8, 7, 8, 7))[0]
            return rng.choice(keys)
        if isinstance(screen, QuestionState):
            weights = (90, 7, 3) if name == "safe" else (30, 55, 15)
            return rng.choices(list(QUESTION_KEYS), weights=weights)[0]
        assert isinstance(screen, TextState)
        if screen.optional and rng.random() < 0.15:
            return ""
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 45)))

    def record(self, slot: int, step: Step, saved: str | None) -> None:
        """Store what the request saved; start a new conversation when this one ended."""
        for event in step.events:
            self.events[event.name] += 1
        if saved is None or step.state is None:
            self.endings[self.end_by_text.get(step.turn.text, "exit")] += 1
            self.visited.add(self.end_by_text.get(step.turn.text, "exit"))
            self._start(slot)
            return
        self.store[slot] = saved
        self.where[slot] = step.state.state
        self.visited.add(step.state.state)


KINDS = ("answer", f'invalid "{INVALID}"', f'back "{BACK_KEY}"')


def kind_of(raw: str) -> int:
    """Index in KINDS of an input: an answer, the invalid input, or back."""
    return 2 if raw == BACK_KEY else 1 if raw == INVALID else 0


def run(
    driver: Driver,
    steps: int,
    do: Request,
    ns: array[int] | None = None,
    kinds: bytearray | None = None,
) -> int:
    """Run ``steps`` requests, keeping each one's duration and input kind when given buffers.

    The buffers are allocated by the caller before the pass, so the pass itself allocates
    nothing that outlives a step; returns the wall time (ns) including the driver.
    """
    registry = driver.setup.registry
    tr = driver.setup.catalogs.gettext
    clock = time.perf_counter_ns
    start = clock()
    for i in range(steps):
        slot, stored, raw = driver.next_request()
        t0 = clock()
        step, saved = do(registry, stored, raw, tr)
        t1 = clock()
        if ns is not None:
            ns[i] = t1 - t0
        if kinds is not None:
            kinds[i] = kind_of(raw)
        driver.record(slot, step, saved)
    return clock() - start


def percentile(ordered: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of sorted nanoseconds, in microseconds."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1] / 1000


Counts = tuple[int, int, int, int, int]
"""(gc objects, allocated blocks, traced bytes, current RSS bytes, models attached).

A plain tuple of ints on purpose: the collector untracks it, so holding the "before" counts
does not itself show up as one more object in the "after" counts.
"""


def rss_bytes() -> int:
    """Current resident set size from /proc (Linux), read without buffered I/O; 0 if unknown."""
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY)
        try:
            pages = int(os.read(fd, 256).split()[1])
        finally:
            os.close(fd)
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def counts(registry: FlowRegistry) -> Counts:
    """Collect garbage, then count what is still alive (see Counts)."""
    for _ in range(3):  # each collection untracks only one more level of nested atomic tuples
        gc.collect()
    blocks = sys.getallocatedblocks()
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    objects = len(gc.get_objects())
    attached = sum(len(c.machine.models) for c in registry.current())
    return objects, blocks, traced, rss_bytes(), attached


def gc_work() -> tuple[int, int]:
    """(collections, objects freed) by the cyclic gc so far, over all generations."""
    stats = gc.get_stats()
    return sum(s["collections"] for s in stats), sum(s["collected"] for s in stats)


def kib(n: float) -> str:
    """Bytes as KiB, signed (for differences)."""
    return f"{n / 1024:+,.1f} KiB"


def verdict(ok: bool) -> str:
    """How an aim reads in the report."""
    return "met" if ok else "NOT MET"


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Report:
    """The plain-text report, written as the passes finish."""

    lines: list[str] = field(default_factory=list)

    def __call__(self, text: str = "") -> None:
        """Print one line now (so a slow pass shows progress) and keep it."""
        print(text, flush=True)
        self.lines.append(text)


def header(say: Report, setup: Setup, args: argparse.Namespace) -> None:
    """The machine, the flow and the workload."""
    definition = setup.loaded.definition
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    say("Engine step benchmark: restore JSON -> advance (apply input, render) -> save JSON")
    say(
        f"machine:  {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs, load average {load} at start; "
        f"transitions {package_version('transitions')}, pydantic {package_version('pydantic')}"
    )
    say(
        f"flow:     bench/flows/{FLOW_FILE.name} '{setup.loaded.name}' version "
        f"{setup.loaded.version}: {len(definition.states)} states, validated clean, compiled "
        "once into one shared machine"
    )
    say(
        f"workload: {args.sessions} interleaved sessions kept as JSON, seed {args.seed}; inputs "
        f"{INVALID_SHARE:.0%} invalid, {BACK_SHARE:.0%} back, the rest random answers; an "
        "ended conversation starts again (begin, not timed)"
    )
    say()


def mib(n: float) -> str:
    """Bytes as MiB."""
    return f"{n / 2**20:,.1f} MiB"


@dataclass(frozen=True)
class Timed:
    """What the summary needs from the timing pass."""

    median: float
    p99: float
    grown: int
    attached: int


def timing_pass(say: Report, driver: Driver, args: argparse.Namespace) -> Timed:
    """Time every step (no tracemalloc) and count what is alive around the pass."""
    registry = driver.setup.registry
    ns = array("q", bytes(8 * args.steps))
    kinds = bytearray(args.steps)
    run(driver, args.warmup, request)
    work_before = gc_work()
    before = counts(registry)
    wall_ns = run(driver, args.steps, request, ns, kinds)
    work_after = gc_work()
    after = counts(registry)
    ordered = sorted(ns)
    median, p99 = percentile(ordered, 50), percentile(ordered, 99)
    total_s = sum(ordered) / 1e9
    aim = f"aim ≤ {AIM_US:.0f} µs"
    say(
        f"Timing pass: {args.steps:,} steps after {args.warmup:,} warm-up steps "
        "(perf_counter_ns around each step; gc enabled as in production; no tracemalloc)"
    )
    say(f"  median       {median:9.1f} µs   {aim}: {verdict(median <= AIM_US)}")
    say(f"  p90          {percentile(ordered, 90):9.1f} µs")
    say(f"  p99          {p99:9.1f} µs   {aim}: {verdict(p99 <= AIM_US)}")
    say(f"  max          {ordered[-1] / 1000:9.1f} µs")
    say(f"  mean         {total_s / args.steps * 1e6:9.1f} µs")
    say(
        f"  throughput   {args.steps / total_s:9,.0f} steps/s on one core (timed code only; "
        f"{args.steps / (wall_ns / 1e9):,.0f} steps/s with the driver)"
    )
    for index, name in enumerate(KINDS):
        own = sorted(t for t, k in zip(ns, kinds, strict=True) if k == index)
        if own:
            say(
                f"  {name + ':':<12} {len(own) / args.steps:6.1%} of steps: median "
                f"{percentile(own, 50):7.1f} µs, p99 {percentile(own, 99):8.1f} µs"
            )
    definition = driver.setup.loaded.definition
    ends = ", ".join(f"{name} {n:,}" for name, n in driver.endings.most_common())
    say(
        f"  coverage     {len(driver.visited & set(definition.states))}/{len(definition.states)} "
        f"states visited; {sum(driver.endings.values()):,} conversations ended ({ends})"
    )
    say(f"  events       {', '.join(f'{n} {c:,}' for n, c in driver.events.most_common())}")
    say(
        f"  alive        after gc.collect(), outside the timed steps: gc objects "
        f"{before[0]:,} after warm-up, {after[0]:,} after {args.steps:,} steps "
        f"({after[0] - before[0]:+,}); allocated blocks {after[1] - before[1]:+,}"
    )
    say(
        f"  RSS          {mib(before[3])} after warm-up, {mib(after[3])} after {args.steps:,} "
        f"steps ({(after[3] - before[3]) / 1024:+,.0f} KiB)"
    )
    say(f"  attached     {after[4]} models left on the shared machine (must be 0)")
    say(
        f"  cyclic gc    {(work_after[1] - work_before[1]) / args.steps:,.1f} objects per step "
        f"freed only by the cycle collector ({work_after[0] - work_before[0]:,} collections): "
        "not retained, but work"
    )
    say()
    return Timed(median, p99, after[0] - before[0], after[4])


def memory_pass(say: Report, driver: Driver, args: argparse.Namespace) -> tuple[Counts, Counts]:
    """Run separately under tracemalloc; traced memory and gc objects before and after."""
    registry = driver.setup.registry
    steps = args.memory_steps
    tracemalloc.start()
    run(driver, args.warmup, request)
    gc.collect()
    first = tracemalloc.take_snapshot()
    before = counts(registry)
    run(driver, steps, request)
    after = counts(registry)
    last = tracemalloc.take_snapshot()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    say(
        f"Memory pass: a separate run of {steps:,} steps after {args.warmup:,} warm-up steps "
        "under tracemalloc, which slows every allocation several times, so it is kept out of "
        "the timing pass and shorter (--memory-steps)"
    )
    say(
        f"  traced       {before[2] / 1024:,.1f} KiB after warm-up, {after[2] / 1024:,.1f} KiB "
        f"after {steps:,} steps ({kib(after[2] - before[2])}; traced peak {peak / 1024:,.1f} KiB)"
    )
    say(
        f"  gc objects   {before[0]:,} after warm-up, {after[0]:,} after {steps:,} steps "
        f"({after[0] - before[0]:+,}); allocated blocks {after[1] - before[1]:+,}"
    )
    say(f"  attached     {after[4]} models left on the shared machine (must be 0)")
    ignore = tracemalloc.Filter(False, tracemalloc.__file__)
    diffs = last.filter_traces([ignore]).compare_to(first.filter_traces([ignore]), "lineno")
    for diff in diffs[:3]:
        frame = diff.traceback[0]
        say(
            f"  top change   {Path(frame.filename).name}:{frame.lineno} {kib(diff.size_diff)} "
            f"({diff.count_diff:+,} blocks), now {diff.size / 1024:,.1f} KiB"
        )
    say()
    return before, after


def fresh_pass(say: Report, setup: Setup, args: argparse.Namespace, shared_median: float) -> None:
    """Time the rejected design, a Machine built per request, against the shared machine."""
    driver = Driver(setup, args.seed, args.sessions)
    ns = array("q", bytes(8 * args.fresh_steps))
    run(driver, min(args.warmup, 100), request_fresh_machine)
    run(driver, args.fresh_steps, request_fresh_machine, ns)
    ordered = sorted(ns)
    median = percentile(ordered, 50)
    say(
        f"Rejected design: a fresh Machine per request (compile_flow inside the step), "
        f"{args.fresh_steps:,} steps"
    )
    say(f"  median       {median:9.1f} µs   p99 {percentile(ordered, 99):9.1f} µs")
    say(
        f"  ratio        {median / shared_median:9.1f}x the shared machine's median "
        f"({shared_median:.1f} µs); DESIGN.md says ~5x"
    )
    say()


def profile_pass(say: Report, setup: Setup, args: argparse.Namespace) -> None:
    """cProfile some steps and show the top functions by cumulative time."""
    driver = Driver(setup, args.seed, args.sessions)
    run(driver, args.warmup, request)
    profiler = cProfile.Profile()
    profiler.runcall(run, driver, args.profile, request)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs().sort_stats("cumulative").print_stats(15)
    say(
        f"Profile: {args.profile:,} steps under cProfile (slower), top functions by cumulative time"
    )
    for line in text.getvalue().strip().splitlines()[3:]:
        say(f"  {line}" if line.strip() else "")
    say()


def main(argv: list[str] | None = None) -> int:
    """Run the passes and print the report; exit 0 whether or not the aims are met."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.engine_step", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--steps", type=int, default=100_000, help="timed steps (100,000)")
    parser.add_argument("--warmup", type=int, default=1_000, help="untimed steps first (1,000)")
    parser.add_argument(
        "--memory-steps", type=int, default=5_000, help="steps under tracemalloc (5,000; 0 skips)"
    )
    parser.add_argument(
        "--fresh-steps", type=int, default=2_000, help="steps of the rejected design (2,000)"
    )
    parser.add_argument("--sessions", type=int, default=8, help="interleaved sessions (8)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also cProfile N steps (off)"
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.sessions < 1:
        parser.error("--steps and --sessions must be at least 1")
    if min(args.warmup, args.memory_steps, args.fresh_steps, args.profile) < 0:
        parser.error("step counts cannot be negative")
    began = time.perf_counter()
    say = Report()
    setup = build()
    header(say, setup, args)
    timed = timing_pass(say, Driver(setup, args.seed, args.sessions), args)
    traced = None
    if args.memory_steps:
        traced = memory_pass(say, Driver(setup, args.seed + 1, args.sessions), args)
    if args.fresh_steps:
        fresh_pass(say, setup, args, timed.median)
    if args.profile:
        profile_pass(say, setup, args)
    aim = f"aim ≤ {AIM_US:.0f} µs"
    say("Summary")
    say(f"  one step median {timed.median:9.1f} µs   {aim}: {verdict(timed.median <= AIM_US)}")
    say(f"  one step p99    {timed.p99:9.1f} µs   {aim}: {verdict(timed.p99 <= AIM_US)}")
    grown, attached = [timed.grown], [timed.attached]
    growth = f"{timed.grown:+,} objects after {args.steps:,} steps"
    if traced is not None:
        before, after = traced
        grown.append(after[0] - before[0])
        attached.append(after[4])
        growth += (
            f"; {after[0] - before[0]:+,} objects / {kib(after[2] - before[2])} traced "
            f"over {args.memory_steps:,} steps"
        )
    say(
        f"  retained growth: {growth}; {max(attached)} models attached   aim no growth: "
        f"{verdict(max(grown) <= 0 and max(attached) == 0)}"
    )
    say(f"  peak RSS {peak_rss_mib():,.1f} MiB (ru_maxrss, whole process, all passes)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"  run time {time.perf_counter() - began:.1f} s; load average {load} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
