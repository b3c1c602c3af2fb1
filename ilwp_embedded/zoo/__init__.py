"""Models trained here: the CIFAR ResNets of He et al. 2016, the bundled examples and ILWP's test bed."""
