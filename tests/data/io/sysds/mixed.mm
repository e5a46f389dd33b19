%%MatrixMarket matrix coordinate real general
3 3 7
1 1 1.0
1 2 2.5
2 1 -3.0
2 2 1.0E-5
2 3 1.23456789E8
3 1 0.1
3 2 1.0E20
