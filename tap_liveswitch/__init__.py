"""tap-liveswitch: a Singer tap for the LiveSwitch Contact and Concierge API."""
