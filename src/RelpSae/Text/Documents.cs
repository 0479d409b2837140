namespace RelpSae.Text;

/// <summary>
/// Streams the documents (strings) of a text data set, choosing the reader by extension:
/// .txt (blank-line separated), .jsonl (one JSON object per line) or .parquet (a string column).
/// Nothing is read until the sequence is enumerated, and each enumeration reads the file again. Documents
/// come as pieces (<see cref="Piece{T}"/>): a long .txt or .jsonl document (text or token ids) is cut so memory stays bounded.
/// </summary>
public static class Documents
{
    /// <param name="path">The data set file.</param>
    /// <param name="textField">The JSON field or Parquet column holding the text (ignored for .txt).</param>
    public static IEnumerable<Piece<string>> Read(string path, string textField = "text")
    {
        if (!File.Exists(path)) throw new RelpSaeException($"data set {path}: file not found");
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".txt" => TxtDocuments.Read(path),
            ".jsonl" => JsonlDocuments.Read(path, textField),
            ".parquet" => ParquetDocuments.Read(path, textField).Select(d => new Piece<string>(d)),
            var ext => throw new RelpSaeException($"data set {path}: unknown extension \"{ext}\" (use .txt, .jsonl or .parquet)"),
        };
    }

    /// <summary>
    /// The documents as token ids: the texts through <paramref name="tokenizer"/>, or, for a model without
    /// one, a .jsonl whose <paramref name="field"/> holds each document's ids as an array of integers.
    /// </summary>
    public static IEnumerable<Piece<int[]>> ReadTokens(string path, string field, ITextTokenizer? tokenizer)
    {
        if (tokenizer is not null) return Read(path, field).Select(p => new Piece<int[]>(tokenizer.Encode(p.Content), p.Continues));
        if (!File.Exists(path)) throw new RelpSaeException($"data set {path}: file not found");
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            throw new RelpSaeException($"data set {path}: a model without a tokenizer reads token ids from a .jsonl file (one {{\"{field}\": [ids]}} per line)");
        return JsonlDocuments.ReadIds(path, field);
    }
}
