import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerFiles } from './runtimeSpec.ts';

/** HOST_RESOLV_CONF is bound read-only into every container, as Docker and BuildKit do. */
export const HOST_RESOLV_CONF = '/etc/resolv.conf';

/** hostsFile is the container's /etc/hosts: loopback names plus its own hostname (BuildKit's shape). */
export function hostsFile(hostname: string): string {
  return [
    `127.0.0.1\tlocalhost ${hostname}`,
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '',
  ].join('\n');
}

/**
 * writeContainerFiles writes /etc/hosts and /etc/hostname for one run into stateDir
 * (which must exist) and picks the resolv.conf to bind: the host's, or an empty one
 * from stateDir when the host has none (a container must still find the file).
 * Synchronous on purpose: three tiny local writes cost less than the thread-pool
 * round trips of their async versions, and this is on every step's critical path.
 */
export function writeContainerFiles(stateDir: string, hostname: string): ContainerFiles {
  const hosts = join(stateDir, 'hosts');
  const hostnameFile = join(stateDir, 'hostname');
  writeFileSync(hosts, hostsFile(hostname));
  writeFileSync(hostnameFile, `${hostname}\n`);
  let resolvConf = HOST_RESOLV_CONF;
  if (!statSync(HOST_RESOLV_CONF, { throwIfNoEntry: false })?.isFile()) {
    resolvConf = join(stateDir, 'resolv.conf');
    writeFileSync(resolvConf, '');
  }
  return { resolvConf, hosts, hostname: hostnameFile };
}
