using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.Cases.Tests;

public abstract partial class CaseStoreContract
{
    [Fact]
    public async Task The_newest_cases_of_one_camera_are_its_own_newest_first_in_the_states_asked_for()
    {
        var mine = new List<Case>();
        for (var n = 0; n < 8; n++)
        {
            var c = await Store.OpenAsync(CaseSamples.Case(n) with { CameraId = n % 2 == 0 ? "cam-north" : "cam-south" });
            if (c.CameraId == "cam-north") mine.Insert(0, c);
        }
        await Store.TransitionAsync(mine[0].Id, CaseState.Rejected, DateTimeOffset.UtcNow, "a delivery van");

        var all = await Store.NewestAsync(new CaseQuery { CameraId = "cam-north", Limit = 10 });
        Assert.Equal(mine.Select(c => c.Id), all.Select(c => c.Id));
        var open = await Store.NewestAsync(new CaseQuery { CameraId = "cam-north", States = CaseQuery.OpenStates, Limit = 2 });
        Assert.Equal(mine.Skip(1).Take(2).Select(c => c.Id), open.Select(c => c.Id));
        Assert.Empty(await Store.NewestAsync(new CaseQuery { CameraId = "cam-east", Limit = 10 }));
    }
}
