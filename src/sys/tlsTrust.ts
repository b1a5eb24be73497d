// Deferred NODE_EXTRA_CA_CERTS. Node 20 parses that file, and builds its whole root
// store, before any JavaScript runs: ~90 ms of every start on a machine that sets it
// (many CI images do), most of a cached rebuild, for certificates only a registry or
// ADD <url> over TLS needs. bin/tsbuild.mjs therefore starts Node without it, handing
// the path over in TSBUILD_NODE_EXTRA_CA_CERTS; the CLI records it here, and the first
// TLS client of the process (trustDeferredCaCerts) makes Node's TLS trust it as Node
// itself would have: the bundled roots plus the file's certificates.
//
// The CLI loads this module on every start, so it imports node:tls only as a type.
import { readFileSync } from 'node:fs';
import type * as Tls from 'node:tls';

let deferred: string | undefined;
let applied = false;

/** deferExtraCaCerts records a CA file (PEM) Node was started without; an empty path records nothing. */
export function deferExtraCaCerts(file: string): void {
  if (file !== '') deferred = file;
}

/** deferredCaFile is the recorded CA file, if any. */
export function deferredCaFile(): string | undefined {
  return deferred;
}

/**
 * The options of tls.createSecureContext that change the context (Node's documented
 * list). A context asked for with none of them is the default one, and is shared.
 */
const CONTEXT_OPTIONS = [
  'ca', 'cert', 'sigalgs', 'ciphers', 'clientCertEngine', 'crl', 'dhparam', 'ecdhCurve', 'honorCipherOrder', 'key',
  'privateKeyEngine', 'privateKeyIdentifier', 'maxVersion', 'minVersion', 'passphrase', 'pfx', 'secureOptions',
  'secureProtocol', 'sessionIdContext', 'ticketKeys', 'sessionTimeout',
] as const;

/**
 * trustDeferredCaCerts makes every TLS client of this process (node:https, tls.connect,
 * the global fetch) trust the deferred CA file, once; call it before connecting. A default
 * context (no context option given) is built once, from the bundled roots and the file, and
 * shared, as Node shares its root store; a context with options of its own but no `ca` gets
 * the file's certificates added. A file that cannot be read is ignored, as Node ignores it
 * (with a warning) at start-up.
 */
export function trustDeferredCaCerts(tls: typeof Tls): void {
  if (applied || deferred === undefined) return;
  applied = true;
  const extra = readPems(deferred);
  if (extra.length === 0) return;
  const original = tls.createSecureContext;
  let shared: Tls.SecureContext | undefined;
  const patched = (options?: Tls.SecureContextOptions): Tls.SecureContext => {
    const own = options !== undefined && CONTEXT_OPTIONS.some((k) => (options as Record<string, unknown>)[k] !== undefined);
    if (!own) return (shared ??= original({ ca: [...tls.rootCertificates, ...extra] }));
    const ctx = original(options);
    if (options.ca === undefined) for (const pem of extra) (ctx.context as { addCACert(pem: string): void }).addCACert(pem);
    return ctx;
  };
  (tls as { createSecureContext: typeof patched }).createSecureContext = patched;
}

function readPems(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** UNTRUSTED matches Node's (OpenSSL's) error codes for a certificate chain that no trusted CA vouches for. */
const UNTRUSTED = /^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_UNTRUSTED)$/;

/** isUntrustedCertificate tells an error code that adding the server's CA (NODE_EXTRA_CA_CERTS) would fix. */
export function isUntrustedCertificate(code: string | undefined): boolean {
  return code !== undefined && UNTRUSTED.test(code);
}
