package io.visualsearch.modelclient;

/** The model server cannot answer now (down, overloaded, model loading): try again later. */
public class ModelUnavailableException extends Exception {
  public ModelUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
