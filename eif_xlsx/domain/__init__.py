"""What an assessment is made of: the matrix and indicator-set models, the catalog that loads them, partner lists."""
