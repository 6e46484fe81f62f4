import { v5 } from 'uuid';

/** The namespace of this product's name-based ids (a fixed random UUID; never change it). */
const NAMESPACE = '6f1d6c2e-5b0a-4c47-9a8e-2d43a1f0b7c5';

/**
 * A name-based UUID (RFC 9562 version 5) of `parts`: the same occurrence always gets the same
 * id, so a statement written again after a crash (a redelivered event) is stored once.
 */
export const stableId = (...parts: string[]): string => v5(parts.join('\n'), NAMESPACE);
