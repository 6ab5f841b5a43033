#!/bin/sh
# The pod sandbox's process: holds the pod's namespaces and sleeps until told to stop.
# As PID 1 it gets no default signal handlers, so it traps TERM and INT itself; `wait` is
# interruptible, so the trap runs at once (a foreground sleep would delay it).
trap 'exit 0' TERM INT
while :; do
  sleep infinity &
  wait $!
done
