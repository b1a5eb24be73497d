/** MediaType constants from the OCI image-spec and Docker's v2 schema 2. */
export const MediaType = {
  OciLayout: 'application/vnd.oci.layout.header.v1',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

export type MediaTypeValue = (typeof MediaType)[keyof typeof MediaType];

/** isLayerMediaType tells whether m names a layer blob (OCI or Docker, any compression). */
export function isLayerMediaType(m: string): boolean {
  return m.startsWith('application/vnd.oci.image.layer.') || m.startsWith('application/vnd.docker.image.rootfs.');
}

/** isIndexMediaType tells whether m names an image index / manifest list. */
export function isIndexMediaType(m: string): boolean {
  return m === MediaType.OciIndex || m === MediaType.DockerManifestList;
}

/**
 * ociLayerType maps a Docker layer media type to the OCI one for the same bytes
 * (OCI and other types map to themselves), so an OCI manifest never mixes schemas.
 */
export function ociLayerType(m: string): string {
  if (m === MediaType.DockerLayerGzip) return MediaType.OciLayerGzip;
  if (m === MediaType.DockerLayer) return MediaType.OciLayer;
  return m;
}
