%%MatrixMarket matrix array real general
2 3
1
2
3
4
5
6
