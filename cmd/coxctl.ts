#!/usr/bin/env node
// coxctl: the Coxswain command-line client.

import { runCli } from '../pkg/cli/index.js';
import { processIO } from '../pkg/cli/context.js';

process.exitCode = await runCli(process.argv.slice(2), processIO);
