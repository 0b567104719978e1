"""The poll queue head's window (services/notifications/poll_heads.py): it stays the first messages of the queue
in queue order (queued_at, then _id) whatever is queued, and says when it must be rebuilt."""

from datetime import UTC, datetime, timedelta

from services.notifications.poll_heads import WINDOW, Head

T0 = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)


def message(msg_id: int, at: datetime = T0, expires: timedelta = timedelta(days=365)) -> dict:
    return {"_id": msg_id, "queued_at": at, "expires_at": at + expires}


def test_a_window_holding_the_whole_queue_takes_every_new_message_up_to_its_size() -> None:
    head = Head("a100001")
    head.add([message(i) for i in range(1, 4)])
    assert [d["_id"] for d in head.next] == [1, 2, 3] and head.count == 3 and head.complete
    head.add([message(i) for i in range(4, WINDOW + 6)])
    assert [d["_id"] for d in head.next] == list(range(1, WINDOW + 1))
    assert head.count == WINDOW + 5 and not head.complete


def test_a_window_short_of_the_queue_takes_only_what_sorts_before_its_last() -> None:
    # three messages left in the window of a queue of 12 (acks shrank it): the nine past it sort after 3
    head = Head("a100001", count=12, next=[message(1), message(2), message(3)])
    head.add([message(20), message(21)])
    assert [d["_id"] for d in head.next] == [1, 2, 3] and head.count == 14
    # a clock set back: a message queued earlier than the window's last belongs in it
    head.add([message(22, at=T0 - timedelta(seconds=1))])
    assert [d["_id"] for d in head.next] == [22, 1, 2, 3] and head.count == 15


def test_older_object_id_strings_sort_after_numbers_at_the_same_time() -> None:
    head = Head("a100001")
    head.add([{"_id": "65f0c0ffee", "queued_at": T0, "expires_at": T0 + timedelta(days=1)}, message(7)])
    assert [d["_id"] for d in head.next] == [7, "65f0c0ffee"]


def test_a_head_is_stale_once_a_message_may_have_expired() -> None:
    head = Head("a100001")
    assert not head.stale(T0 + timedelta(days=10_000))  # nothing open: nothing expires
    head.add([message(1, expires=timedelta(days=2)), message(2, expires=timedelta(days=1))])
    assert head.expires_min == T0 + timedelta(days=1)
    assert not head.stale(T0 + timedelta(hours=23)) and head.stale(T0 + timedelta(days=1))
