#!/bin/sh
# The pod sandbox's process: holds the pod's namespaces and sleeps until told to stop.
# As PID 1 it gets no default signal handlers, so it traps TERM and INT itself; `wait` is
# interruptible, so the trap runs at once (a foreground sleep would delay it). A signal that
# lands between starting the sleep and entering `wait` is only acted on when that sleep
# ends, so each sleep is short: such a stop then takes at most 5 s, not the grace period.
trap 'exit 0' TERM INT
while :; do
  sleep 5 &
  wait $!
done
