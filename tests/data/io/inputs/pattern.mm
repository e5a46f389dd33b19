%%MatrixMarket matrix coordinate pattern general
2 3 2
1 2
2 3
