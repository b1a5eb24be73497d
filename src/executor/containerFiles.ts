import { stat, writeFile } from 'node:fs/promises';
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
 */
export async function writeContainerFiles(stateDir: string, hostname: string): Promise<ContainerFiles> {
  const hosts = join(stateDir, 'hosts');
  const hostnameFile = join(stateDir, 'hostname');
  let resolvConf = HOST_RESOLV_CONF;
  const [, , hostHasResolv] = await Promise.all([
    writeFile(hosts, hostsFile(hostname)),
    writeFile(hostnameFile, `${hostname}\n`),
    stat(HOST_RESOLV_CONF).then((s) => s.isFile(), () => false),
  ]);
  if (!hostHasResolv) {
    resolvConf = join(stateDir, 'resolv.conf');
    await writeFile(resolvConf, '');
  }
  return { resolvConf, hosts, hostname: hostnameFile };
}
