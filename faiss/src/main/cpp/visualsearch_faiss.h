// The narrow C++ surface the Java preset (io.visualsearch.faiss.FaissPreset) binds to.
//
// faiss::Index itself is bound directly for its virtual methods (train, add,
// search, ...). What lives here is the glue that would otherwise need more C++
// types mapped to Java: the factory with an int metric code, remove_ids by an
// id array (IDSelectorBatch), ParameterSpace, per-search HNSW and IVF parameters
// through the wrappers FAISS 1.7.3 refuses them in, in-memory (de)serialisation and
// the calling thread's OpenMP setting.
//
// Every function may throw faiss::FaissException (a std::exception); the JNI
// code JavaCPP generates catches it and raises io.visualsearch.faiss.FaissException
// with what() as the message, so nothing here catches.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <omp.h>

#include <faiss/AutoTune.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFastScan.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/Index.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

// OpenBLAS's own thread pool (FAISS calls sgemm for batches of 20+ queries and for
// k-means). Declared here rather than pulling in OpenBLAS's cblas.h, whose location
// depends on the Debian BLAS flavour.
extern "C" void openblas_set_num_threads(int threads);
extern "C" int openblas_get_num_threads(void);

namespace visualsearch_faiss {

// metric_code is faiss::MetricType's value (INNER_PRODUCT = 0, L2 = 1).
//
// An "IDMap," / "IDMap2," prefix always wraps everything after it. FAISS 1.7.3's factory
// matches a trailing ",RFlat" before the prefix, so "IDMap,PCA128,HNSW16,RFlat" would
// come out as a refinement around an IDMap, which cannot add_with_ids.
inline faiss::Index* create_index(int dimension, const char* description, int metric_code) {
    const auto metric = static_cast<faiss::MetricType>(metric_code);
    const std::string text(description);
    for (const char* prefix : {"IDMap2,", "IDMap,"}) {
        const std::string p(prefix);
        if (text.compare(0, p.size(), p) == 0) {
            std::unique_ptr<faiss::Index> inner(faiss::index_factory(dimension, text.substr(p.size()).c_str(), metric));
            faiss::IndexIDMap* wrapper = p == "IDMap2," ? new faiss::IndexIDMap2(inner.get())
                                                        : new faiss::IndexIDMap(inner.get());
            wrapper->own_fields = true;
            inner.release();
            return wrapper;
        }
    }
    return faiss::index_factory(dimension, description, metric);
}

inline void delete_index(faiss::Index* index) {
    delete index;
}

inline int metric_code(const faiss::Index* index) {
    return static_cast<int>(index->metric_type);
}

inline int64_t remove_ids(faiss::Index* index, const int64_t* ids, int64_t count) {
    faiss::IDSelectorBatch selector(static_cast<size_t>(count), ids);
    return static_cast<int64_t>(index->remove_ids(selector));
}

// ParameterSpace plus the one HNSW build setting it lacks: efConstruction, the
// candidate list while inserting (FAISS's default is 40), which must be set before
// vectors are added. The base class recurses through IndexIDMap / IndexPreTransform
// / IndexRefine wrappers by calling this virtual method, so the override sees the
// HNSW index inside them.
struct BuildAndSearchParameters : faiss::ParameterSpace {
    void set_index_parameter(faiss::Index* index, const std::string& name, double value) const override {
        if (name == "efConstruction") {
            if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index)) {
                FAISS_THROW_IF_NOT_MSG(value >= 1, "efConstruction must be at least 1");
                hnsw->hnsw.efConstruction = static_cast<int>(value);
                return;
            }
        }
        faiss::ParameterSpace::set_index_parameter(index, name, value);
    }
};

// "nprobe=16", "efSearch=64", "efConstruction=100", or several joined by commas.
inline void set_index_parameters(faiss::Index* index, const char* parameters) {
    BuildAndSearchParameters space;
    space.set_index_parameters(index, parameters);
}

// An index as the builder writes it, outermost first: [IDMap] [Refine] [PreTransform] leaf,
// each wrapper optional; the leaf is what per-search parameters are for (HNSW, IVF).
struct Wrapped {
    const std::vector<faiss::Index::idx_t>* id_map = nullptr;
    const faiss::IndexRefine* refine = nullptr;
    // What the refinement's candidates come from (the index itself when there is none).
    const faiss::Index* base = nullptr;
    const faiss::IndexPreTransform* transform = nullptr;
    const faiss::Index* leaf = nullptr;
};

inline Wrapped unwrap(const faiss::Index* index) {
    Wrapped w;
    const faiss::Index* inner = index;
    if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(inner)) {
        inner = idmap->index;
        w.id_map = &idmap->id_map;
    }
    w.refine = dynamic_cast<const faiss::IndexRefine*>(inner);
    w.base = w.refine != nullptr ? w.refine->base_index : inner;
    w.transform = dynamic_cast<const faiss::IndexPreTransform*>(w.base);
    w.leaf = w.transform != nullptr ? w.transform->index : w.base;
    return w;
}

// One search of a wrapped index with parameters for its leaf. FAISS 1.7.3's IndexIDMap and
// IndexRefine both refuse search parameters, so they are unwrapped here: the leaf (through its
// PreTransform, which passes parameters on) is asked for k * k_factor candidates, the
// refinement index scores them exactly, the best k are kept and the IDMap's ids replace the
// positions.
inline void search_leaf_with(const Wrapped& w, int64_t n, const float* x, int64_t k,
                             float* distances, int64_t* labels, faiss::SearchParameters* leaf_params) {
    faiss::SearchParametersPreTransform transform_params;
    transform_params.index_params = leaf_params;
    const faiss::SearchParameters* params = leaf_params;
    if (w.transform != nullptr) {
        params = &transform_params;
    }
    const faiss::IndexRefine* refine = w.refine;
    if (refine == nullptr) {
        w.base->search(n, x, k, distances, labels, params);
    } else {
        const int64_t k_base = std::max<int64_t>(k, static_cast<int64_t>(k * refine->k_factor));
        std::vector<float> base_distances(n * k_base);
        std::vector<faiss::Index::idx_t> base_labels(n * k_base);
        w.base->search(n, x, k_base, base_distances.data(), base_labels.data(), params);
        std::unique_ptr<faiss::DistanceComputer> exact(refine->refine_index->get_distance_computer());
        const bool larger_is_closer = refine->refine_index->metric_type == faiss::METRIC_INNER_PRODUCT;
        typedef std::pair<float, faiss::Index::idx_t> Scored;
        std::vector<Scored> scored;
        for (int64_t q = 0; q < n; q++) {
            exact->set_query(x + q * refine->d);
            scored.clear();
            for (int64_t j = 0; j < k_base; j++) {
                const faiss::Index::idx_t label = base_labels[q * k_base + j];
                if (label >= 0) {
                    scored.emplace_back((*exact)(label), label);
                }
            }
            const size_t keep = std::min<size_t>(scored.size(), static_cast<size_t>(k));
            std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(),
                              [larger_is_closer](const Scored& a, const Scored& b) {
                                  return larger_is_closer ? a.first > b.first : a.first < b.first;
                              });
            for (int64_t j = 0; j < k; j++) {
                const bool found = static_cast<size_t>(j) < keep;
                distances[q * k + j] = found ? scored[j].first
                                             : (larger_is_closer ? -std::numeric_limits<float>::max()
                                                                 : std::numeric_limits<float>::max());
                labels[q * k + j] = found ? scored[j].second : -1;
            }
        }
    }
    if (w.id_map != nullptr) {
        for (int64_t i = 0; i < n * k; i++) {
            if (labels[i] >= 0) {
                labels[i] = (*w.id_map)[labels[i]];
            }
        }
    }
}

// One search with its own HNSW candidate list, leaving the index's shared efSearch
// alone: concurrent searches may each ask for their own, which setting it through
// ParameterSpace would race on. HNSW does not widen the list to k by itself, so a
// caller asking for many neighbours needs this.
inline void search_hnsw(const faiss::Index* index, int64_t n, const float* x, int64_t k,
                        float* distances, int64_t* labels, int ef_search) {
    FAISS_THROW_IF_NOT_MSG(ef_search >= 1, "efSearch must be at least 1");
    const Wrapped w = unwrap(index);
    FAISS_THROW_IF_NOT_MSG(dynamic_cast<const faiss::IndexHNSW*>(w.leaf) != nullptr,
                           "a per-search efSearch needs an HNSW index, optionally inside "
                           "IDMap / Refine / PreTransform wrappers");
    faiss::SearchParametersHNSW hnsw_params;
    hnsw_params.efSearch = ef_search;
    search_leaf_with(w, n, x, k, distances, labels, &hnsw_params);
}

// The inverted file a search may choose its own nprobe for (inside the same wrappers), or null:
// FAISS 1.7.3's fast-scan inverted files refuse search parameters.
inline const faiss::IndexIVF* probeable_ivf(const faiss::Index* leaf) {
    const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(leaf);
    return ivf != nullptr && dynamic_cast<const faiss::IndexIVFFastScan*>(ivf) == nullptr ? ivf : nullptr;
}

// Its list count (nlist), 0 when there is none.
inline int64_t probeable_lists(const faiss::Index* index) {
    const faiss::IndexIVF* ivf = probeable_ivf(unwrap(index).leaf);
    return ivf != nullptr ? static_cast<int64_t>(ivf->nlist) : 0;
}

// One search probing its own number of inverted lists (at most all of them), leaving the
// index's shared nprobe alone, as search_hnsw does for efSearch: a search that needs more
// candidates than the usual lists hold (a selective filter) probes more. The index's own
// max_codes still bounds the scan.
inline void search_ivf(const faiss::Index* index, int64_t n, const float* x, int64_t k,
                       float* distances, int64_t* labels, int nprobe) {
    FAISS_THROW_IF_NOT_MSG(nprobe >= 1, "nprobe must be at least 1");
    const Wrapped w = unwrap(index);
    const faiss::IndexIVF* ivf = probeable_ivf(w.leaf);
    FAISS_THROW_IF_NOT_MSG(ivf != nullptr,
                           "a per-search nprobe needs an IVF index other than fast-scan, optionally "
                           "inside IDMap / Refine / PreTransform wrappers");
    faiss::SearchParametersIVF ivf_params;
    ivf_params.nprobe = std::min<size_t>(static_cast<size_t>(nprobe), ivf->nlist);
    ivf_params.max_codes = ivf->max_codes;
    search_leaf_with(w, n, x, k, distances, labels, &ivf_params);
}

// Rows [from, from + n) of the vectors the index keeps whole, as they were added, and their ids
// (their positions when there is no IDMap), into out (n x d floats) and ids (n): a flat index, an
// HNSW graph's flat storage, the flat index of a refinement (rows in position order), or an
// inverted file of flat lists (rows list by list). Other indexes keep codes or projections, from
// which FAISS would give back approximations: refused with FAISS's own "not implemented" wording.
inline void stored_vectors(const faiss::Index* index, int64_t from, int64_t n, float* out, int64_t* ids) {
    FAISS_THROW_IF_NOT_MSG(from >= 0 && n >= 0 && from + n <= index->ntotal, "rows outside the index");
    const Wrapped w = unwrap(index);
    const faiss::Index* whole = w.refine != nullptr ? w.refine->refine_index
                                                    : w.transform == nullptr ? w.leaf : nullptr;
    const auto id_of = [&w](int64_t inner) { return w.id_map != nullptr ? (*w.id_map)[inner] : inner; };
    if (whole != nullptr && (dynamic_cast<const faiss::IndexFlat*>(whole) != nullptr
                             || dynamic_cast<const faiss::IndexHNSWFlat*>(whole) != nullptr)) {
        whole->reconstruct_n(from, n, out);
        for (int64_t i = 0; i < n; i++) {
            ids[i] = id_of(from + i);
        }
        return;
    }
    const auto* ivf = whole == w.leaf ? dynamic_cast<const faiss::IndexIVFFlat*>(whole) : nullptr;
    FAISS_THROW_IF_NOT_MSG(ivf != nullptr,
                           "stored_vectors not implemented for this type of index: it does not keep its vectors whole");
    int64_t row = 0;  // the first row of the current list
    int64_t copied = 0;
    for (size_t list = 0; list < ivf->nlist && copied < n; list++) {
        const auto size = static_cast<int64_t>(ivf->invlists->list_size(list));
        if (row + size <= from + copied) {
            row += size;
            continue;
        }
        const int64_t start = from + copied - row;
        const int64_t take = std::min(size - start, n - copied);
        faiss::InvertedLists::ScopedCodes codes(ivf->invlists, list);
        faiss::InvertedLists::ScopedIds list_ids(ivf->invlists, list);
        std::memcpy(out + copied * ivf->d, codes.get() + start * ivf->code_size, take * ivf->code_size);
        for (int64_t i = 0; i < take; i++) {
            ids[copied + i] = id_of(list_ids[start + i]);
        }
        copied += take;
        row += size;
    }
    FAISS_THROW_IF_NOT_MSG(copied == n, "inverted lists hold fewer rows than ntotal");
}

// Distances from the query x (d floats) to the vectors of ids[0, n) (the IDMap's ids, or positions
// when there is none), as the index's own search reports them (its refinement's, when it has one),
// into distances; NaN for an id the index does not hold. Only for an index that keeps its vectors
// whole (as stored_vectors: Flat, HNSW's flat storage, a refinement's flat index, an inverted file
// of flat lists), through the same wrappers. One pass over the index's ids per call: for a few
// thousand ids a selective filter matched, not for every query.
inline void exact_distances(const faiss::Index* index, const float* x, const int64_t* ids, int64_t n,
                            float* distances) {
    FAISS_THROW_IF_NOT_MSG(n >= 0, "negative id count");
    const Wrapped w = unwrap(index);
    const faiss::Index* whole = w.refine != nullptr ? w.refine->refine_index
                                                    : w.transform == nullptr ? w.leaf : nullptr;
    const faiss::Index* flat = dynamic_cast<const faiss::IndexFlat*>(whole);
    if (flat == nullptr) {
        if (const auto* hnsw = dynamic_cast<const faiss::IndexHNSWFlat*>(whole)) {
            flat = hnsw->storage;
        }
    }
    const auto* ivf = flat == nullptr && whole == w.leaf ? dynamic_cast<const faiss::IndexIVFFlat*>(whole) : nullptr;
    FAISS_THROW_IF_NOT_MSG(flat != nullptr || ivf != nullptr,
                           "exact_distances not implemented for this type of index: it does not keep its vectors whole");
    std::fill(distances, distances + n, std::numeric_limits<float>::quiet_NaN());
    if (ivf != nullptr) {
        // An inverted file of flat lists: each list's codes are its vectors, beside their ids
        // (positions in the IDMap's map when there is one).
        std::unordered_map<int64_t, int64_t> slot_of;
        slot_of.reserve(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; i++) {
            slot_of.emplace(ids[i], i);
        }
        const bool inner_product = ivf->metric_type == faiss::METRIC_INNER_PRODUCT;
        for (size_t list = 0; list < ivf->nlist; list++) {
            const size_t size = ivf->invlists->list_size(list);
            if (size == 0) {
                continue;
            }
            faiss::InvertedLists::ScopedCodes codes(ivf->invlists, list);
            faiss::InvertedLists::ScopedIds list_ids(ivf->invlists, list);
            const auto* vectors = reinterpret_cast<const float*>(codes.get());
            for (size_t j = 0; j < size; j++) {
                const int64_t id = w.id_map != nullptr ? (*w.id_map)[list_ids[j]] : list_ids[j];
                const auto found = slot_of.find(id);
                if (found != slot_of.end()) {
                    const float* v = vectors + j * ivf->d;
                    distances[found->second] = inner_product ? faiss::fvec_inner_product(x, v, ivf->d)
                                                             : faiss::fvec_L2sqr(x, v, ivf->d);
                }
            }
        }
        for (int64_t i = 0; i < n; i++) {  // an id asked twice
            const int64_t first = slot_of[ids[i]];
            if (first != i) {
                distances[i] = distances[first];
            }
        }
        return;
    }
    std::unique_ptr<faiss::DistanceComputer> computer(flat->get_distance_computer());
    computer->set_query(x);
    if (w.id_map == nullptr) {
        for (int64_t i = 0; i < n; i++) {
            if (ids[i] >= 0 && ids[i] < flat->ntotal) {
                distances[i] = (*computer)(ids[i]);
            }
        }
        return;
    }
    std::unordered_map<int64_t, int64_t> slot_of;  // id -> its first slot in ids
    slot_of.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++) {
        slot_of.emplace(ids[i], i);
    }
    const std::vector<faiss::Index::idx_t>& id_map = *w.id_map;
    for (size_t position = 0; position < id_map.size(); position++) {
        const auto found = slot_of.find(id_map[position]);
        if (found != slot_of.end()) {
            distances[found->second] = (*computer)(static_cast<faiss::Index::idx_t>(position));
        }
    }
    for (int64_t i = 0; i < n; i++) {  // an id asked twice
        const int64_t first = slot_of[ids[i]];
        if (first != i) {
            distances[i] = distances[first];
        }
    }
}

inline void write_index_file(const faiss::Index* index, const char* path) {
    faiss::write_index(index, path);
}

inline faiss::Index* read_index_file(const char* path) {
    return faiss::read_index(path);
}

inline faiss::Index* read_index_bytes(const int8_t* bytes, int64_t size) {
    faiss::VectorIOReader reader;
    const uint8_t* begin = reinterpret_cast<const uint8_t*>(bytes);
    reader.data.assign(begin, begin + size);
    return faiss::read_index(&reader);
}

// Owns the bytes of one serialised index until Java has copied them out; the
// size must be known before Java allocates its byte[].
class SerializedIndex {
   public:
    explicit SerializedIndex(const faiss::Index* index) {
        faiss::write_index(index, &writer_);
    }
    int64_t size() const {
        return static_cast<int64_t>(writer_.data.size());
    }
    void copy_to(int8_t* out) const {
        std::memcpy(out, writer_.data.data(), writer_.data.size());
    }

   private:
    faiss::VectorIOWriter writer_;
};

// OpenMP's thread count is an internal control variable of the calling thread.
inline void set_omp_threads(int threads) {
    omp_set_num_threads(threads);
}

inline int omp_max_threads() {
    return omp_get_max_threads();
}

// Process-wide, unlike OpenMP's setting.
inline void set_blas_threads(int threads) {
    openblas_set_num_threads(threads);
}

inline int blas_threads() {
    return openblas_get_num_threads();
}

// Process-wide too: exhaustive search of fewer queries than this computes distances
// one vector at a time (FAISS's default 20), otherwise as a BLAS matrix product.
inline void set_exhaustive_blas_threshold(int queries) {
    faiss::distance_compute_blas_threshold = queries;
}

inline int exhaustive_blas_threshold() {
    return faiss::distance_compute_blas_threshold;
}

} // namespace visualsearch_faiss
