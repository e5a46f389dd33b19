%%MatrixMarket matrix coordinate real general
1 3 1
1 3 4.0
