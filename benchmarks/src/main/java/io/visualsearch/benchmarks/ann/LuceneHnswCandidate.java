package io.visualsearch.benchmarks.ann;

import java.io.IOException;
import java.util.List;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * The pure-Java peer: Lucene's HNSW over {@link KnnFloatVectorField}s (its default codec with
 * M=16 and the given beam width, Lucene's default 100; float32 vectors) in an in-memory
 * directory. One indexing thread and a RAM buffer larger than the data make exactly one segment,
 * so doc ids are insertion order and a search is one HNSW graph search
 * ({@link LeafReader#searchNearestVectors}) with {@code ef} candidates, the best {@code k} of
 * which are returned.
 */
final class LuceneHnswCandidate implements AnnCandidate {

  private static final String FIELD = "v";
  static final int M = Lucene99HnswVectorsFormat.DEFAULT_MAX_CONN;
  static final int BEAM_WIDTH = Lucene99HnswVectorsFormat.DEFAULT_BEAM_WIDTH;

  private final int dimension;
  private final int beamWidth;
  private final List<Integer> efs;
  private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
  private DirectoryReader reader;
  private LeafReader leaf;
  private int ef;

  LuceneHnswCandidate(int dimension, int beamWidth, List<Integer> efs) {
    this.dimension = dimension;
    this.beamWidth = beamWidth;
    this.efs = efs;
  }

  @Override
  public String name() {
    return "lucene HNSW (M=" + M + ", beamWidth=" + beamWidth + ")";
  }

  @Override
  public String engine() {
    return "lucene";
  }

  @Override
  public void build(float[] vectors, int n) throws IOException {
    double vectorMb = (double) n * dimension * 4 / (1 << 20);
    KnnVectorsFormat hnsw = new Lucene99HnswVectorsFormat(M, beamWidth);
    IndexWriterConfig config = new IndexWriterConfig()
        .setCodec(new Lucene912Codec() {
          @Override
          public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
            return hnsw;
          }
        })
        .setRAMBufferSizeMB(Math.min(2000, 256 + 2 * vectorMb))
        .setMergePolicy(NoMergePolicy.INSTANCE);
    try (IndexWriter writer = new IndexWriter(directory, config)) {
      for (int i = 0; i < n; i++) {
        float[] v = new float[dimension];
        System.arraycopy(vectors, i * dimension, v, 0, dimension);
        Document doc = new Document();
        doc.add(new KnnFloatVectorField(FIELD, v, VectorSimilarityFunction.DOT_PRODUCT));
        writer.addDocument(doc);
      }
      writer.commit();
    }
    reader = DirectoryReader.open(directory);
    if (reader.leaves().size() != 1) {
      throw new IllegalStateException("expected one segment, got " + reader.leaves().size());
    }
    leaf = reader.leaves().get(0).reader();
  }

  @Override
  public long bytes() throws IOException {
    long total = 0;
    for (String file : directory.listAll()) {
      total += directory.fileLength(file);
    }
    return total;
  }

  @Override
  public long fixedBytes() {
    return 0;
  }

  @Override
  public List<String> settings() {
    return efs.stream().map(e -> "ef=" + e).toList();
  }

  @Override
  public void apply(String setting) {
    ef = Integer.parseInt(setting.substring("ef=".length()));
  }

  @Override
  public long[] search(float[] query, int k) throws IOException {
    TopDocs top = leaf.searchNearestVectors(FIELD, query, Math.max(k, ef), null, Integer.MAX_VALUE);
    int n = Math.min(k, top.scoreDocs.length);
    long[] ids = new long[n];
    ScoreDoc[] docs = top.scoreDocs;
    for (int i = 0; i < n; i++) {
      ids[i] = docs[i].doc;
    }
    return ids;
  }

  @Override
  public void close() {
    try {
      if (reader != null) {
        reader.close();
      }
      directory.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
