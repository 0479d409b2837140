using System.Text.Json;
using Parquet;
using Parquet.Schema;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

public sealed class DocumentsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("relpsae-docs-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    static readonly string[] Docs =
    [
        "The first document.",
        "A second one\nspanning two lines, with \"quotes\" and a tab\t.",
        "Zürich – 東京 🙂",
        "Last.",
    ];

    /// <summary>The documents of a data set of short ones: each is one piece.</summary>
    static IEnumerable<string> Texts(string path, string field = "text") =>
        Documents.Read(path, field).Select(p => p.Continues ? throw new Xunit.Sdk.XunitException("a short document was cut") : p.Content);

    string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    async Task<string> WriteParquet(string column, params string[][] rowGroups)
    {
        var path = Path.Combine(_dir, "docs.parquet");
        var idField = new DataField<int>("id");
        var field = new DataField<string>(column);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(idField, field), stream);
        var id = 0;
        foreach (var rows in rowGroups)
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(idField, (ReadOnlyMemory<int>)Enumerable.Range(id, rows.Length).ToArray());
            await group.WriteAsync(field, rows);
            id += rows.Length;
        }
        return path;
    }

    [Fact]
    public async Task Txt_jsonl_and_parquet_read_the_same_documents()
    {
        // Blank lines (also whitespace-only ones, and several in a row) separate .txt documents.
        var txt = Write("docs.txt", "\n" + string.Join("\n\n", Docs[..2]) + "\n   \n\n" + string.Join("\n\n", Docs[2..]) + "\n\n");
        var jsonl = Write("docs.jsonl", string.Join("\n", Docs.Select(d => JsonSerializer.Serialize(new { id = 1, text = d }))) + "\n\n");
        // Two row groups, to read across a row-group boundary.
        var parquet = await WriteParquet("text", Docs[..3], Docs[3..]);

        Assert.Equal(Docs, Texts(txt));
        Assert.Equal(Docs, Texts(jsonl));
        Assert.Equal(Docs, Texts(parquet));
    }

    [Fact]
    public async Task The_text_field_is_configurable()
    {
        var jsonl = Write("docs.jsonl", string.Join("\n", Docs.Select(d => JsonSerializer.Serialize(new { text = "no", body = d }))));
        Assert.Equal(Docs, Texts(jsonl, "body"));
        var parquet = await WriteParquet("body", Docs);
        Assert.Equal(Docs, Texts(parquet, "body"));
        var e = Assert.Throws<RelpSaeException>(() => Documents.Read(parquet).ToList());
        Assert.Contains("no column \"text\"", e.Message);
        Assert.Contains("id, body", e.Message);
        Assert.Contains("column \"id\" holds System.Int32", Assert.Throws<RelpSaeException>(() => Documents.Read(parquet, "id").ToList()).Message);
    }

    [Fact]
    public async Task A_null_parquet_text_is_named()
    {
        var parquet = await WriteParquet("text", ["a", null!, "c"]);
        Assert.Equal($"{parquet}: row 1 of row group 0 has a null \"text\"", Assert.Throws<RelpSaeException>(() => Documents.Read(parquet).ToList()).Message);
    }

    [Fact]
    public void A_malformed_jsonl_line_is_named()
    {
        var path = Write("bad.jsonl", "{\"text\": \"ok\"}\n\n{\"text\": \"cut\n{\"text\": \"after\"}\n");
        var docs = Documents.Read(path).GetEnumerator();
        Assert.True(docs.MoveNext());
        Assert.Equal(new Piece<string>("ok"), docs.Current);
        var e = Assert.Throws<RelpSaeException>(() => docs.MoveNext());
        Assert.StartsWith($"{path} line 3: not valid JSON", e.Message);

        var missing = Write("missing.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n");
        Assert.Equal($"{missing} line 2: no string field \"text\"", Assert.Throws<RelpSaeException>(() => Documents.Read(missing).ToList()).Message);
    }

    [Fact]
    public void Unknown_extensions_and_missing_files_are_errors()
    {
        Assert.Contains(".csv", Assert.Throws<RelpSaeException>(() => Documents.Read(Write("d.csv", "x"))).Message);
        Assert.Contains("nope.txt", Assert.Throws<RelpSaeException>(() => Documents.Read(Path.Combine(_dir, "nope.txt"))).Message);
        Assert.Contains("junk.parquet", Assert.Throws<RelpSaeException>(() => Documents.Read(Write("junk.parquet", "not parquet")).ToList()).Message);
    }
}
