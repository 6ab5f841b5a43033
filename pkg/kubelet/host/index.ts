// The host's tools for the agent's network code (pod network and service proxy alike).
export * from './command.js';
export * from './iptables.js';
export * from './coalesced-sync.js';
