import { TsbuildError } from '../core/errors.ts';
import type { Descriptor, Index, Platform } from '../oci/types.ts';

/** DEFAULT_PLATFORM is what tsbuild builds and runs: linux/amd64. */
export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** platformString renders os/arch[/variant]. */
export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * choosePlatform picks the manifest for platform from an index or manifest list:
 * os and architecture must match, and variant too when the wanted platform names one.
 * Throws IMAGE_NOT_FOUND listing the platforms the index does have.
 */
export function choosePlatform(index: Index, want: Platform, what: string): Descriptor {
  const hit = index.manifests.find(
    (m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture && (!want.variant || m.platform.variant === want.variant),
  );
  if (hit) return hit;
  const have = index.manifests.filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => platformString(m.platform!));
  throw new TsbuildError('IMAGE_NOT_FOUND', `${what}: no image for ${platformString(want)} (has: ${have.join(', ') || 'none'})`);
}
