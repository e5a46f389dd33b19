"""File formats behind DML's read() and write() (see dmlpy/builtins/io.py).

One module per family:
  javanum     numbers as Java parses and prints them (SystemDS is Java)
  files       reading sources (a file or a directory of part files), atomic replacement
  mtd         the JSON metadata file ``<file>.mtd`` SystemDS keeps beside each file
  delimited   csv and libsvm
  coordinate  text (i j v triples) and Matrix Market
  npy         format="binary": dmlpy's own fast format, a NumPy .npy file
  scalar      scalar values (one value in a text file)
"""
