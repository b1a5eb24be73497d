import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CliContext, Command } from '../context.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { TsbuildError } from '../../core/errors.ts';

const HELP = `usage: tsbuild login [OPTIONS] [SERVER]

Log in to a registry (default docker.io); the credentials are checked, then stored
in tsbuild's auth file (${'$'}TSBUILD_AUTH_FILE, else ~/.config/tsbuild/auth.json).

Options:
  -u, --username USER     user name
  -p, --password PASS     password (visible to other users: prefer --password-stdin)
      --password-stdin    read the password from standard input
      --insecure-registry HOST   speak plain HTTP to HOST (localhost/127.0.0.1 always are)

Both a user name and a password are needed; nothing is asked for on the terminal.

Examples:
  tsbuild login -u jane --password-stdin ghcr.io < token.txt
  echo "$TOKEN" | tsbuild login -u jane --password-stdin localhost:5000`;

const LOGOUT_HELP = `usage: tsbuild logout [SERVER]

Remove the stored credentials for SERVER (default docker.io) from tsbuild's auth file.

Examples:
  tsbuild logout
  tsbuild logout ghcr.io`;

/** tsbuildAuthFile is where login writes: $TSBUILD_AUTH_FILE, else $XDG_CONFIG_HOME/tsbuild/auth.json (~/.config). */
export function tsbuildAuthFile(env: CliContext['env']): string {
  if (env.TSBUILD_AUTH_FILE) return env.TSBUILD_AUTH_FILE;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'tsbuild', 'auth.json');
}

/** authFiles lists the credential files read, first match wins: tsbuild's own, then Docker's ($DOCKER_CONFIG or ~/.docker). */
export function authFiles(env: CliContext['env']): string[] {
  return [tsbuildAuthFile(env), join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json')];
}

/** openClient builds a RegistryClient for a command: credentials from authFiles, insecure hosts, the abort signal. */
export async function openClient(ctx: CliContext, opts: { insecure?: string[]; chunkSize?: number } = {}) {
  const [{ RegistryClient }, { loadDockerConfig }] = await Promise.all([import('../../registry/client.ts'), import('../../registry/credentials.ts')]);
  const credentials = await loadDockerConfig(authFiles(ctx.env));
  return new RegistryClient({
    credentials,
    insecure: opts.insecure ?? [],
    signal: ctx.signal,
    ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
  });
}

async function readStdin(ctx: CliContext): Promise<string> {
  let s = '';
  for await (const c of ctx.stdin) s += String(c);
  return s.replace(/\r?\n$/, '');
}

const LOGIN_OPTIONS = {
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  'password-stdin': { type: 'boolean' },
  'insecure-registry': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** loginCommand is `tsbuild login [-u USER] [-p PASS | --password-stdin] [SERVER]`. */
export const loginCommand: Command = withOptions(LOGIN_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'login', argv, LOGIN_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 1) throw new TsbuildError('USAGE', `login: expected at most one SERVER, got ${positionals.length}`);
  if (values.password !== undefined && values['password-stdin']) throw new TsbuildError('USAGE', 'login: --password and --password-stdin are exclusive');
  const { normalizeAuthKey, storeDockerConfigAuth } = await import('../../registry/credentials.ts');
  const registry = normalizeAuthKey(positionals[0] ?? 'docker.io');
  const username = values.username;
  const password = values['password-stdin'] ? await readStdin(ctx) : values.password;
  if (!username || !password) throw new TsbuildError('USAGE', 'login: needs --username and a password (--password-stdin or --password)');
  const { RegistryClient } = await import('../../registry/client.ts');
  const client = new RegistryClient({
    credentials: { get: (r) => (r === registry ? { username, password } : undefined) },
    insecure: values['insecure-registry'] ?? [],
    signal: ctx.signal,
  });
  try {
    await client.checkLogin(registry);
  } finally {
    client.close();
  }
  await storeDockerConfigAuth(tsbuildAuthFile(ctx.env), registry, username, password);
  ctx.stdout.write('Login Succeeded\n');
  return 0;
});

const LOGOUT_OPTIONS = { help: { type: 'boolean', short: 'h' } } as const;

/** logoutCommand is `tsbuild logout [SERVER]`: forgets tsbuild's stored credentials for SERVER. */
export const logoutCommand: Command = withOptions(LOGOUT_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'logout', argv, LOGOUT_OPTIONS);
  if (values.help) { ctx.stdout.write(LOGOUT_HELP + '\n'); return 0; }
  const { normalizeAuthKey, removeDockerConfigAuth } = await import('../../registry/credentials.ts');
  const registry = normalizeAuthKey(positionals[0] ?? 'docker.io');
  const removed = await removeDockerConfigAuth(tsbuildAuthFile(ctx.env), registry);
  ctx.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
  return 0;
});
