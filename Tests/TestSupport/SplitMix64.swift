// The tests' seeded generator is IPCWire's, the one the synthetic traffic, the benchmarks and the fuzz seeds use.
@_exported import struct IPCWire.SplitMix64
