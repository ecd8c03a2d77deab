const session = crypto.randomUUID().replaceAll("-", "");
const phone = document.getElementById("phone");
async function call(input) {
  const body = {session, channel: channel.value, lang: lang.value, input};
  const r = await fetch("/simulator/api", {method: "POST", headers: {"Content-Type": "application/json"},
                                  body: JSON.stringify(body)});
  const s = await r.json();
  phone.textContent = r.ok ? s.text : JSON.stringify(s);
  const box = document.getElementById("buttons");
  phone.lang = box.lang = lang.value;  // the screen speaks the language chosen, not the page's
  box.replaceChildren();
  for (const b of (s.buttons || [])) {
    const [key, label] = b.split("|");
    const button = document.createElement("button");
    button.textContent = label; button.onclick = () => call(key);
    box.append(button);
  }
}
document.getElementById("start").onclick = () => call(null);
document.getElementById("send").onsubmit = (e) => {
  e.preventDefault(); const f = e.target.input; call(f.value); f.value = "";
};
call(null);
