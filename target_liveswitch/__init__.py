"""target-liveswitch: a Singer target for the LiveSwitch Contact and Concierge API."""
