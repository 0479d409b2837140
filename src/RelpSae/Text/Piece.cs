namespace RelpSae.Text;

/// <summary>
/// A document, or one piece of a long one: a data set's documents stream as pieces so that memory is
/// bounded by the piece, not the document. <paramref name="Continues"/> is true for every piece after a
/// document's first; the packer joins such a piece to the one before without a separator.
/// </summary>
public readonly record struct Piece<T>(T Content, bool Continues = false);
