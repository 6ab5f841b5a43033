// Table printers: the columns and cells kubectl shows for each kind.
export * from './printers.js';
