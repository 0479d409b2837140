// Interleaved A/B of two builds of RelpSae in one process: usage DIR_A DIR_B SECONDS WORKLOAD-ARGS...
// Each build is loaded with its own copy of work.dll into its own AssemblyLoadContext; runs alternate A B B A ...,
// so a minute of noise falls on both. Prints each side's median and the median of the paired ratios B/A.
using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
string work = Path.Combine(AppContext.BaseDirectory, "work.dll");
Action Load(string dir)
{
    var alc = new Side(dir);
    var asm = alc.LoadFromAssemblyPath(work);
    return (Action)asm.GetType("Entry")!.GetMethod("Create")!.Invoke(null, [args[3..]])!;
}
var a = Load(args[0]); var b = Load(args[1]); double seconds = double.Parse(args[2]);
for (int i = 0; i < 3; i++) { a(); b(); }
var ta = new List<double>(); var tb = new List<double>(); var ratios = new List<double>();
double Time(Action f) { Thread.Sleep(2); long t = Stopwatch.GetTimestamp(); f(); return Stopwatch.GetElapsedTime(t).TotalMilliseconds; }
var sw = Stopwatch.StartNew();
for (int r = 0; sw.Elapsed.TotalSeconds < seconds; r++)
{
    double x, y;
    if (r % 2 == 0) { x = Time(a); y = Time(b); } else { y = Time(b); x = Time(a); }
    ta.Add(x); tb.Add(y); ratios.Add(y / x);
}
double Med(List<double> l) { var s = l.OrderBy(v => v).ToList(); return s[s.Count / 2]; }
double Q(List<double> l, double q) { var s = l.OrderBy(v => v).ToList(); return s[(int)(q * (s.Count - 1))]; }
Console.WriteLine($"{string.Join(' ', args[3..])}: A {Med(ta):F2} ms, B {Med(tb):F2} ms, B/A median {Med(ratios):F3} (quartiles {Q(ratios, 0.25):F3}–{Q(ratios, 0.75):F3}) over {ta.Count} pairs");

class Side(string dir) : AssemblyLoadContext(isCollectible: false)
{
    protected override Assembly? Load(AssemblyName name)
    {
        string p = Path.Combine(dir, name.Name + ".dll");
        return name.Name != "work" && File.Exists(p) && !name.Name!.StartsWith("System.Private") ? LoadFromAssemblyPath(p) : null;
    }
}
