namespace RelpSae.Formats;

/// <summary>
/// A tensor a checkpoint declares (name, shape, element type), known before any of its bytes are
/// read, so that names and shapes can be checked against the config before memory is spent.
/// </summary>
public sealed record TensorHeader(string Name, int[] Shape, DType DType);
