%%MatrixMarket matrix coordinate real general
% a comment
3 2 2
1 1 5
3 2 7.5
