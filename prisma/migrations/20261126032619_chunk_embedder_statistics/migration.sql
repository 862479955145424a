-- Hand-written: statistics on the embedder a chunk's vector came from (Prisma cannot
-- declare extended statistics).
--
-- Every vector search filters on metadata ->> 'embedder' (vectors of different
-- embedders never meet). Without statistics the planner guesses 0.5 % of rows pass
-- any such equality, so for a 100 k-chunk scope it expected ~140 rows, sorted them all
-- and skipped the HNSW index: a 4 s scan where the index answers in ~30 ms (bench/rag).
-- With these, ANALYZE records how many chunks each embedder holds.
CREATE STATISTICS document_chunks_embedder ON ((metadata ->> 'embedder')) FROM document_chunks;
