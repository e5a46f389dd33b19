%%MatrixMarket matrix coordinate integer general
2 2 2
1 1 3
2 2 -4
