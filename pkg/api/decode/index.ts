// The one place values from the wire become data: JSON and YAML bodies, and the checks
// every patch function runs on its input (see plain-data.ts).
export * from './json.js';
export * from './plain-data.js';
export * from './yaml.js';
