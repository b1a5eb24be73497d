import { TsbuildError } from '../core/errors.ts';
import { readImage, type ImageRecord, type ImageSource } from '../store/images.ts';

/**
 * findImage is readImage with Docker's wording for a miss: `No such image: REF`
 * (TsbuildError IMAGE_NOT_FOUND). Tags win over id prefixes, as in readImage.
 */
export async function findImage(src: ImageSource, ref: string): Promise<ImageRecord> {
  try {
    return await readImage(src, ref);
  } catch (e) {
    if (e instanceof TsbuildError && (e.code === 'IMAGE_NOT_FOUND' || e.code === 'BAD_REFERENCE') && !/ambiguous/.test(e.message)) {
      throw new TsbuildError('IMAGE_NOT_FOUND', `No such image: ${ref}`, { hint: "'tsbuild images' lists the images in the store", cause: e });
    }
    throw e;
  }
}
