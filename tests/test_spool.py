"""The spool that keeps a round's answers on disk, and the memory-light pieces of the import around it."""

from __future__ import annotations

import os
import pickle

import pytest

from eif_xlsx.intake import batch
from eif_xlsx.spool import Rows, SortedRows, Spool, Spooled, SpooledMap


class Item:
    def __init__(self, key, value):
        self.key, self.value = key, value

    def __eq__(self, other):
        return (self.key, self.value) == (other.key, other.value)


def test_spooled_values_come_back_from_the_file_unchanged():
    spool = Spool()
    answers = [Item(("criterion", "1.1", f"1.1{c}", "baseline"), c * 3) for c in "abcdef"]
    results = {("1.1", "baseline"): 2.5, ("1.1", "12_months"): None}
    packed, mapped = Spooled.pack(answers), SpooledMap.pack(results)
    spool.keep(packed)
    spool.keep(mapped)
    assert packed._blob is None and mapped._blob is None  # the bytes left memory
    assert list(packed) == answers and len(packed) == 6 and packed[2] == answers[2]
    assert packed.by_key()[("criterion", "1.1", "1.1c", "baseline")].value == "ccc"
    assert dict(mapped) == results and ("1.1", "baseline") in mapped and mapped.get(("x", "y")) is None
    # Travels (to a worker, or as a copy) as where it is in the named spool file, not as an open file or its bytes.
    sent = pickle.dumps(packed)
    assert len(sent) < 200 and list(pickle.loads(sent)) == answers
    assert Spooled.pack([]) == () and SpooledMap.pack({}) == {}  # nothing to keep: the one empty tuple
    # Several values in one file, each read back from its own place, also past the first 4 GiB of offsets.
    more = [Spooled.pack([Item(("notes", str(i), "", ""), "x" * i)]) for i in range(1, 4)]
    for p in more:
        spool.keep(p)
    assert [next(iter(p)).value for p in more] == ["x", "xx", "xxx"]
    far = Spooled.pack(answers)
    far._file, far._span, far._blob = spool._file, (5 << 32) << 32 | 1, None  # at 20 GiB: past the end of the file
    assert far._bytes() == b"" and (far._span >> 32, far._span & 0xFFFFFFFF) == (5 << 32, 1)


def test_many_spooled_lists_each_read_back_its_own_answers():
    spool = Spool()
    lists = [Spooled.pack([Item(("f", str(i), str(j), ""), i * 100 + j) for j in range(i + 1)]) for i in range(30)]
    for packed in lists:
        spool.keep(packed)
    for i in (29, 0, 17, 3, 29, 0):  # out of order, and more than the cache holds
        assert [a.value for a in lists[i]] == [i * 100 + j for j in range(i + 1)]


def test_a_forked_reader_and_this_process_read_the_spool_at_the_same_time():
    spool = Spool()
    lists = [Spooled.pack([Item(("f", str(i), "", ""), "x" * (i + 1) * 50)]) for i in range(200)]
    for packed in lists:
        spool.keep(packed)
    pid = os.fork()
    if pid == 0:  # the child reads everything while the parent does too; exit 0 only if all came back right
        ok = all(next(iter(lists[i])).value == "x" * (i + 1) * 50 for _ in range(5) for i in range(200))
        os._exit(0 if ok else 1)
    ok = all(next(iter(lists[i])).value == "x" * (i + 1) * 50 for _ in range(5) for i in reversed(range(200)))
    _, status = os.waitpid(pid, 0)
    assert ok and os.waitstatus_to_exitcode(status) == 0


def test_sorted_rows_come_back_in_key_order_with_ties_in_arrival_order():
    rows = SortedRows()
    for key, row in [((2, "b"), ["late"]), ((1, "z"), ["first"]), ((2, "b"), ["later still"]), ((1, "z"), ["tie"])]:
        rows.add(key, row)
    assert list(rows) == [["first"], ["tie"], ["late"], ["later still"]]
    assert list(rows) == list(rows)  # can be read more than once
    rows.add((0, "a"), ["added after reading"])  # goes to the end of the file, not over a row just read
    assert list(rows) == [["added after reading"], ["first"], ["tie"], ["late"], ["later still"]]


def test_sorted_rows_in_runs_on_disk_come_back_as_a_sort_of_all_of_them_would():
    import random

    for trial in range(60):
        rnd = random.Random(trial)
        rows, added = SortedRows(run=rnd.choice([1, 2, 7, 50])), []
        shared = ["the same text", ("a", "tuple")]  # objects shared between rows come back in each
        for i in range(rnd.randrange(0, 400)):
            key = (rnd.randrange(4), rnd.choice("abc"))
            row = [rnd.choice(shared), i, {"v": rnd.random()}, rnd.choice(shared)]
            rows.add(key, row)
            added.append((key, i, row))
            if rnd.random() < 0.01:  # read in the middle, then more added
                assert list(rows) == [r for _, _, r in sorted(added, key=lambda t: t[:2])]
        expected = [r for _, _, r in sorted(added, key=lambda t: t[:2])]  # by key, ties in the order added
        assert list(rows) == expected == list(rows) and len(rows) == len(added)
    big = SortedRows(run=100)
    for i in range(1000):
        big.add((i % 3,), ["row", i])
    assert big._rows == [] or len(big._rows) < 100  # at most one run's rows in memory
    assert len(big._runs) == 10 and [r[1] for r in big][:4] == [0, 3, 6, 9]


def test_metadata_is_a_read_only_mapping_sharing_its_keys():
    one = batch.Metadata({"definition_id": "m", "partner_id": "P1", "round": "baseline"})
    two = batch.Metadata({"definition_id": "m", "partner_id": "P2", "round": "baseline"})
    assert dict(one) == {"definition_id": "m", "partner_id": "P1", "round": "baseline"}
    assert one.get("partner_id") == "P1" and two["partner_id"] == "P2" and one.get("nope", "-") == "-"
    assert one._at is two._at  # one key table for the round
    assert dict(pickle.loads(pickle.dumps(one))) == dict(one)
    with pytest.raises(TypeError):
        one["partner_id"] = "P9"  # type: ignore[index]


def test_the_spool_reads_back_where_there_is_no_pread(monkeypatch):
    monkeypatch.delattr(os, "pread")  # as on Windows
    spool = Spool()
    lists = [Spooled.pack([Item(("f", str(i), "", ""), i)]) for i in range(10)]
    for packed in lists:
        spool.keep(packed)
    assert [next(iter(lists[i])).value for i in (9, 0, 5, 9, 1, 2, 3, 4, 6, 7, 8)] == [9, 0, 5, 9, 1, 2, 3, 4, 6, 7, 8]


def test_rows_on_disk_read_back_in_order_also_when_iterated_inside_each_other():
    rows = Rows(["a", "b"])
    rows.append({"c": 3})
    assert len(rows) == 3 and bool(rows) and not Rows()
    assert list(rows) == ["a", "b", {"c": 3}] == list(rows)
    pairs = [(x, y) for x in rows for y in rows]  # what the tracker's passes may do
    assert pairs == [(x, y) for x in ["a", "b", {"c": 3}] for y in ["a", "b", {"c": 3}]]


def test_metadata_shares_a_value_repeated_from_the_last_return():
    a = batch.Metadata({"definition_id": "".join(["mat", "rix"]), "partner_id": "P1"})
    b = batch.Metadata({"definition_id": "".join(["mat", "rix"]), "partner_id": "P2"})
    assert a["definition_id"] is b["definition_id"] and (a["partner_id"], b["partner_id"]) == ("P1", "P2")


def _result(score: float | None, level: str, rating: str):
    from eif_xlsx.domain.scoring import Score
    from eif_xlsx.intake.checks import SubElementResult

    full = 0 if score is None else int(score)
    return SubElementResult("1.1", "baseline", Score(score is not None, full, score, level, level, 3, 5, ()), rating)


def test_scores_keep_levels_and_ratings_exactly_also_past_255_different_texts():
    from eif_xlsx.domain.scoring import Scores

    made = []
    for i in range(300):  # ratings are typed: far more than 255 different ones may come
        results = {
            ("1.1", "baseline"): _result(1.5, "Basic level", f"rating {i}"),
            ("1.1", "12 months"): _result(None, "Not assessed", ""),
        }
        made.append(pickle.loads(pickle.dumps(Scores(results))))
    for i, sc in enumerate(made):
        assert sc.rating("1.1", "baseline") == f"rating {i}" and sc.level("1.1", "baseline") == "Basic level"
        assert sc.score("1.1", "baseline") == 1.5 and sc.score("1.1", "12 months") is None
        assert sc.level("1.1", "12 months") == "Not assessed" and sc.rating("1.1", "12 months") == ""
        assert sc.level("2", "baseline") == "" and sc.full("1.1", "baseline") == 1


def test_findings_come_back_from_a_worker_equal():
    from eif_xlsx.errors import finding

    f = finding("bad-date", "a.xlsx", "Cover", "C14", value="31/02/2026")
    back = pickle.loads(pickle.dumps(f))
    assert back == f and back.message == f.message and back.where == "Cover!C14"


def test_a_layout_travels_whole_once_then_by_its_digest():
    from eif_xlsx.domain.catalog import Catalog
    from eif_xlsx.template import layout as layout_mod

    lay = layout_mod.build(Catalog.default().matrix("maternity-early-years"))
    first, second = pickle.dumps(lay), pickle.dumps(lay)
    assert len(second) < 200 < len(first)  # the text once, then the digest
    assert pickle.loads(second) is pickle.loads(first) is lay  # one shared copy here
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker's view: what this process has kept, it inherited; a new layout goes whole first
        catalog = Catalog.default()
        other = layout_mod.build(
            catalog.matrix("maternity-early-years"), catalog.indicator_set("staffordshire-best-start")
        )
        for message in (pickle.dumps(lay), pickle.dumps(other), pickle.dumps(other)):
            os.write(write, len(message).to_bytes(4, "big") + message)
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 20):
        data += chunk
    os.waitpid(pid, 0)
    messages = []
    while data:
        size = int.from_bytes(data[:4], "big")
        messages.append(data[4 : 4 + size])
        data = data[4 + size :]
    assert len(messages[0]) < 200 and len(messages[2]) < 200 < len(messages[1])  # known here: by digest
    got = [pickle.loads(m) for m in messages]
    assert got[0] is lay and got[1] is got[2] and got[1].to_json() != lay.to_json()
    with pytest.raises(LookupError, match="never sent"):
        layout_mod._from_digest("0" * 32)


def test_values_kept_together_go_in_one_write_and_each_reads_back_its_own():
    spool = Spool()
    real = spool._file.fh
    writes = []

    class Trickle:  # a file that takes at most 7 bytes per write, as an unbuffered write may
        def __getattr__(self, name):
            return getattr(real, name)

        def write(self, data):
            writes.append(len(data))
            return real.write(bytes(data[:7]))

    spool._file.fh = Trickle()  # type: ignore[assignment]
    values = [[Item(("notes", str(i), "", ""), "v" * (i + 1))] for i in range(3)]
    packed = [Spooled.pack(v) for v in values]
    results = SpooledMap.pack({("1.1", "baseline"): 1.5})
    spool.keep(*packed, (), [], results)
    assert all(p._blob is None for p in [*packed, results])
    total = sum(len(pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for v in values) + len(
        pickle.dumps({("1.1", "baseline"): 1.5}, protocol=pickle.HIGHEST_PROTOCOL)
    )
    assert writes[0] == total and len(writes) == -(-total // 7)  # one write, taken 7 bytes at a time
    spool._file.fh = real
    assert [list(p) for p in packed] == values and dict(results) == {("1.1", "baseline"): 1.5}


def test_spool_files_are_named_in_the_run_scratch_folder_and_go_with_it():
    import gc

    from eif_xlsx import spool

    with spool.scratch() as folder:
        kept = Spool()
        value = Spooled.pack([Item(("notes", "1.1", "", ""), "typed text")])
        kept.keep(value)
        rows = Rows([("P1", 1.5)])
        sorted_rows = SortedRows(run=1)
        sorted_rows.add((1,), ["spilled to a run"])
        assert spool.scratch_folder() == folder
        assert sorted(os.path.splitext(n)[1] for n in os.listdir(folder)) == [".rows", ".spool"]
    assert not os.path.exists(folder) and spool.scratch_folder() is None
    # Still read here through the open files; sent elsewhere now as the values themselves.
    assert [a.value for a in value] == ["typed text"] and list(rows) == [("P1", 1.5)]
    assert list(sorted_rows) == [["spilled to a run"]]
    assert [a.value for a in pickle.loads(pickle.dumps(value))] == ["typed text"]
    assert list(pickle.loads(pickle.dumps(rows))) == [("P1", 1.5)]

    # Outside a scratch block: in the system's temporary folder, deleted once nothing refers to it, but not by a
    # forked process dropping its copy.
    alone = Spool()
    path = alone._file.path
    assert path is not None and os.path.exists(path)
    pid = os.fork()
    if pid == 0:
        del alone
        gc.collect()
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.path.exists(path)
    del alone
    gc.collect()
    assert not os.path.exists(path)
