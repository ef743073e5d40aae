"""A stand-in for the user's browser, started by `liveswitch-auth login` through $BROWSER.

It chatters on stdout as some real browsers do, then logs in: GET the login URL (the sandbox
approves at once) and GET the redirect it answers with.
"""

import sys

import requests

print("Opening in existing browser session.", flush=True)
login = requests.get(sys.argv[1], allow_redirects=False, timeout=30)
requests.get(login.headers["Location"], timeout=30)
