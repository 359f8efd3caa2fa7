namespace CitySight.Bench;

/// <summary>Progress of a phase, for the command's display.</summary>
internal interface IFeedBenchProgress
{
    void Phase(string name, int total);
    void Progress(string name, int committed, int slowestReceived);
    void Done(string name, string summary);
}
