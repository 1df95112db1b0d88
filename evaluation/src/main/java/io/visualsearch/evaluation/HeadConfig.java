package io.visualsearch.evaluation;

/**
 * Hyper-parameters of the fine-tuned head and its training.
 *
 * @param hidden width of the hidden layer
 * @param dim width of the head's category face (the proxy loss's embedding)
 * @param instanceDim width of the head's instance face (the InfoNCE term's embedding); 0 puts the
 *     InfoNCE term on the category face instead, one shared embedding
 * @param temperature of the normalised-softmax (proxy) category loss
 * @param instanceTemperature of the augmentation-invariance (InfoNCE) term
 * @param instanceWeight weight of that term against the category loss
 * @param labelSmoothing share of the category target spread over all categories
 * @param dropout drop rate on the hidden layer while training
 * @param learningRate Adam's peak rate (cosine decay to zero over the run)
 * @param epochs passes over the fit images
 * @param batch fit images per step (category loss)
 * @param pairBatch (catalog image, altered view) pairs per step
 * @param seed initial weights, dropout masks and batch order
 */
record HeadConfig(
    int hidden,
    int dim,
    int instanceDim,
    float temperature,
    float instanceTemperature,
    float instanceWeight,
    float labelSmoothing,
    float dropout,
    float learningRate,
    int epochs,
    int batch,
    int pairBatch,
    long seed) {}
