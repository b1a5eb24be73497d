import { createRequire } from 'node:module';

type XattrModule = typeof import('@napi-rs/xattr');

let mod: XattrModule | undefined;

/**
 * xattr loads @napi-rs/xattr (a native addon; Node has no xattr API) on first
 * use: loading it costs tens of milliseconds, and a cached build never needs it.
 */
function xattr(): XattrModule {
  mod ??= createRequire(import.meta.url)('@napi-rs/xattr') as XattrModule;
  return mod;
}

/** getAttributeSync reads an extended attribute (not following a final symlink is the caller's choice of path). */
export const getAttributeSync: XattrModule['getAttributeSync'] = (...a) => xattr().getAttributeSync(...a);
/** getAttribute is the asynchronous getAttributeSync. */
export const getAttribute: XattrModule['getAttribute'] = (...a) => xattr().getAttribute(...a);
/** listAttributesSync lists the extended attribute names of a path. */
export const listAttributesSync: XattrModule['listAttributesSync'] = (...a) => xattr().listAttributesSync(...a);
/** setAttributeSync writes an extended attribute. */
export const setAttributeSync: XattrModule['setAttributeSync'] = (...a) => xattr().setAttributeSync(...a);
