// The kube-apiserver audit flags this module serves, their defaults and checks, and opening
// the policy file and the log from them. Audit is on when both a policy file and a log path
// are given (Kubernetes logs nothing without a policy, and without a backend there is nowhere
// to log).

import { readFile, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { policyEvaluator, type PolicyEvaluator } from './checker.js';
import { AuditRecorder, type MicrosClock } from './event.js';
import { AuditLogBackend, DEFAULT_BUFFER_SIZE, DEFAULT_MAX_EVENT_BYTES, StreamOutput } from './log-backend.js';
import { AuditPolicyError, parsePolicy, type ParsedPolicy } from './policy.js';
import { RotatingFile } from './rotating-file.js';

const MEGABYTE = 1024 * 1024;

/** The flags, by their kube-apiserver names without `--`. */
export interface AuditFlags {
  'audit-policy-file'?: string;
  /** `-` is stdout. */
  'audit-log-path'?: string;
  /** Days to keep rotated files (0: no limit). */
  'audit-log-maxage'?: number;
  /** Rotated files to keep (0: no limit). */
  'audit-log-maxbackup'?: number;
  /** Megabytes before rotation (0: lumberjack's 100). */
  'audit-log-maxsize'?: number;
  'audit-log-batch-buffer-size'?: number;
  'audit-log-truncate-max-event-size'?: number;
}

export interface AuditLogOptions {
  policyFile: string;
  path: string;
  maxAgeDays: number;
  maxBackups: number;
  maxSizeBytes: number;
  bufferSize: number;
  maxEventBytes: number;
}

function checkCount(errors: string[], flag: keyof AuditFlags, value: number): void {
  if (!Number.isSafeInteger(value)) errors.push(`--${flag} ${value} must be a whole number`);
  else if (value < 0) errors.push(`--${flag} ${value} can't be a negative number`);
}

function checkPositive(errors: string[], flag: keyof AuditFlags, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) errors.push(`--${flag} ${value} must be a positive number`);
}

/**
 * The audit options the flags ask for: undefined when audit is off (no policy file or no
 * log path), otherwise checked options. Throws listing every bad flag.
 */
export function auditOptionsFromFlags(flags: AuditFlags): AuditLogOptions | undefined {
  const policyFile = flags['audit-policy-file'] ?? '';
  const path = flags['audit-log-path'] ?? '';
  const options = {
    policyFile,
    path,
    maxAgeDays: flags['audit-log-maxage'] ?? 0,
    maxBackups: flags['audit-log-maxbackup'] ?? 0,
    maxSizeBytes: (flags['audit-log-maxsize'] ?? 0) * MEGABYTE,
    bufferSize: flags['audit-log-batch-buffer-size'] ?? DEFAULT_BUFFER_SIZE,
    maxEventBytes: flags['audit-log-truncate-max-event-size'] ?? DEFAULT_MAX_EVENT_BYTES,
  };
  const errors: string[] = [];
  checkCount(errors, 'audit-log-maxage', options.maxAgeDays);
  checkCount(errors, 'audit-log-maxbackup', options.maxBackups);
  checkCount(errors, 'audit-log-maxsize', flags['audit-log-maxsize'] ?? 0);
  checkPositive(errors, 'audit-log-batch-buffer-size', options.bufferSize);
  checkPositive(errors, 'audit-log-truncate-max-event-size', options.maxEventBytes);
  if (errors.length > 0) throw new Error(errors.join('; '));
  return policyFile === '' || path === '' ? undefined : options;
}

/** Largest policy file read; a policy is a few kilobytes. */
const MAX_POLICY_FILE_BYTES = 3 * MEGABYTE;

/** Reads and checks --audit-policy-file; errors name the file. */
export async function loadPolicyFile(path: string): Promise<ParsedPolicy> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_POLICY_FILE_BYTES) throw new Error(`the file is larger than ${MAX_POLICY_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AuditPolicyError(
      `failed to read file path "${path}": ${err instanceof Error ? err.message : String(err)}`,
      [],
    );
  }
  try {
    return parsePolicy(text);
  } catch (err) {
    if (err instanceof AuditPolicyError) throw new AuditPolicyError(`${err.message} (from file ${path})`, err.errors);
    throw err;
  }
}

export interface OpenedAudit {
  recorder: AuditRecorder;
  backend: AuditLogBackend;
  evaluate: PolicyEvaluator;
  warnings: string[];
}

export interface OpenAuditDeps {
  /** For `--audit-log-path=-`; process.stdout unless given. */
  stdout?: Writable;
  onError?: (message: string) => void;
  clock?: MicrosClock;
}

/** Loads the policy and opens the log (creating the file 0600) so a bad flag fails at start. */
export async function openAudit(options: AuditLogOptions, deps: OpenAuditDeps = {}): Promise<OpenedAudit> {
  const { policy, warnings } = await loadPolicyFile(options.policyFile);
  let output;
  if (options.path === '-') {
    output = new StreamOutput(deps.stdout ?? process.stdout);
  } else {
    const file = new RotatingFile({
      path: options.path,
      maxSizeBytes: options.maxSizeBytes,
      maxBackups: options.maxBackups,
      maxAgeDays: options.maxAgeDays,
    });
    await file.open();
    output = file;
  }
  const backend = new AuditLogBackend({
    output,
    bufferSize: options.bufferSize,
    maxEventBytes: options.maxEventBytes,
    onError: deps.onError,
  });
  const evaluate = policyEvaluator(policy);
  const recorder = new AuditRecorder({
    evaluate,
    sink: backend,
    clock: deps.clock,
    maxObjectBytes: options.maxEventBytes,
  });
  return { recorder, backend, evaluate, warnings };
}
