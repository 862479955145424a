import { Injectable } from '@nestjs/common';
import { EMBEDDING_DIMENSION, embedLocally } from './local-embedder';

export { EMBEDDING_DIMENSION };

/** Which embedder produced a vector (stored with each document). */
export const LOCAL_EMBEDDER = 'local-lexical-v1';

/**
 * Turns texts into the platform's 1024-dimensional vectors. Today the built-in local
 * embedder (lexical, offline) serves every company; a provider from the integration
 * registry (Voyage, an OpenAI-compatible endpoint) slots in here.
 */
@Injectable()
export class Embeddings {
  embed(texts: string[]): Promise<{ vectors: number[][]; model: string }> {
    return Promise.resolve({ vectors: texts.map(embedLocally), model: LOCAL_EMBEDDER });
  }
}
