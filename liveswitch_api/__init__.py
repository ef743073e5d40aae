"""What tap-liveswitch, target-liveswitch and liveswitch-auth share: the API's wire facts,
settings, OAuth with a rotating refresh token, the token store and the HTTP retry policy."""
