using Parquet;
using Parquet.Schema;

namespace RelpSae.Text;

/// <summary>
/// A Parquet data set (the layout Hugging Face datasets publish): the text is a string column, read one
/// row group at a time so memory stays bounded by the largest row group.
/// </summary>
public static class ParquetDocuments
{
    public static IEnumerable<string> Read(string path, string column = "text")
    {
        // The reader is async-only; a data set is consumed by a synchronous training loop, so block here.
        var reader = Open(path);
        try
        {
            foreach (var doc in ReadAll(reader, path, column)) yield return doc;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    static IEnumerable<string> ReadAll(ParquetReader reader, string path, string column)
    {
        var field = reader.Schema.DataFields.FirstOrDefault(f => f.Name == column)
            ?? throw new RelpSaeException($"{path}: no column \"{column}\" (columns: {string.Join(", ", reader.Schema.DataFields.Select(f => f.Name))})");
        // Parquet.Net 6 reports string columns as ReadOnlyMemory<char> (plain binary as ReadOnlyMemory<byte>); all read as UTF-8 strings.
        if (field.IsArray || (field.ClrType != typeof(string) && field.ClrType != typeof(ReadOnlyMemory<char>) && field.ClrType != typeof(ReadOnlyMemory<byte>)))
            throw new RelpSaeException($"{path}: column \"{column}\" holds {field.ClrType}, not strings");
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var values = ReadRowGroup(reader, g, field, path);
            for (var row = 0; row < values.Length; row++)
            {
                var text = values[row] ?? throw new RelpSaeException($"{path}: row {row} of row group {g} has a null \"{column}\"");
                // Parquet.Net decodes with replacement and keeps no raw bytes, so U+FFFD is the only trace of invalid UTF-8;
                // refused like the invalid bytes of a .txt or .jsonl (a literal U+FFFD is refused with it).
                if (text.Contains('\uFFFD'))
                    throw new RelpSaeException($"{path}: row {row} of row group {g}, column \"{column}\": holds U+FFFD, the mark of bytes that were not valid UTF-8");
                yield return text;
            }
        }
    }

    static ParquetReader Open(string path)
    {
        try { return ParquetReader.CreateAsync(path).GetAwaiter().GetResult(); }
        catch (Exception e) when (IsCorruption(e))
        {
            throw new RelpSaeException($"{path}: not a readable Parquet file ({Reason(e)})", e);
        }
    }

    // A damaged file surfaces from the thrift and page decoders as almost any exception type; all of them mean "corrupt".
    static bool IsCorruption(Exception e) => e is not (RelpSaeException or OperationCanceledException or OutOfMemoryException);

    static string Reason(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";

    static string?[] ReadRowGroup(ParquetReader reader, int group, DataField field, string path)
    {
        try
        {
            using var rowGroup = reader.OpenRowGroupReader(group);
            if (rowGroup.RowCount > Array.MaxLength)
                throw new RelpSaeException($"{path}: row group {group} claims {rowGroup.RowCount} rows");
            var values = new string?[rowGroup.RowCount];
            rowGroup.ReadAsync(field, values.AsMemory()).GetAwaiter().GetResult();
            return values;
        }
        catch (Exception e) when (IsCorruption(e))
        {
            throw new RelpSaeException($"{path}: row group {group} is not readable ({Reason(e)})", e);
        }
    }
}
