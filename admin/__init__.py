"""The web side for the hotline team: simulator now; queue, directory and flow editor next."""
