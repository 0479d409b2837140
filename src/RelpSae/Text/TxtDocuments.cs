using System.Text;

namespace RelpSae.Text;

/// <summary>
/// A plain-text data set: documents are separated by one or more blank (whitespace-only) lines, and a
/// document's lines are joined with "\n". A blank line is the only separator that needs no escaping and
/// keeps paragraphs of a corpus dump apart; a document therefore never contains an empty line.
/// </summary>
public static class TxtDocuments
{
    public static IEnumerable<string> Read(string path)
    {
        var doc = new StringBuilder();
        foreach (var (number, line) in StrictText.Lines(path))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                if (doc.Length > 0) doc.Append('\n');
                doc.Append(line);
                // Counted in chars (≤ bytes): one bound for a document however its lines are cut.
                if (doc.Length > StrictText.MaxLineBytes)
                    throw new RelpSaeException($"{path} line {number}: the document ending here is longer than {StrictText.MaxLineBytes >> 20} MiB; split it with a blank line");
            }
            else if (doc.Length > 0)
            {
                yield return doc.ToString();
                doc.Clear();
            }
        }
        if (doc.Length > 0) yield return doc.ToString();
    }
}
