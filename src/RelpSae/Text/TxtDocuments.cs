namespace RelpSae.Text;

/// <summary>
/// A plain-text data set: documents are separated by one or more blank (whitespace-only) lines, and a
/// document's lines are joined with "\n". A blank line is the only separator that needs no escaping and
/// keeps paragraphs of a corpus dump apart; a document therefore never contains an empty line. A long
/// document, even one line of hundreds of MiB, streams in pieces (<see cref="PieceCutter"/>).
/// </summary>
public static class TxtDocuments
{
    public static IEnumerable<Piece<string>> Read(string path)
    {
        var doc = new PieceCutter(path);
        bool inDoc = false, midLine = false;
        foreach (var (number, text, endsLine) in StrictText.Segments(path, StrictText.SegmentBytes))
        {
            // Only a line read in one segment can be blank; a longer one is text however it starts.
            if (!midLine && endsLine && string.IsNullOrWhiteSpace(text))
            {
                if (inDoc) yield return doc.End();
                inDoc = false;
                continue;
            }
            if (inDoc && !midLine)
                foreach (var piece in doc.Append("\n", number)) yield return piece;
            foreach (var piece in doc.Append(text, number)) yield return piece;
            inDoc = true;
            midLine = !endsLine;
        }
        if (inDoc) yield return doc.End();
    }
}
