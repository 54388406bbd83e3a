"""Dataset loaders on tiny files written in each dataset's real format."""

import pickle
import wave

import numpy as np
import pytest

from pairspace.data.datasets import (
    load_cifar100,
    load_esc50,
    load_image_folder,
    load_tut2017,
    load_urbansound8k,
)
from pairspace.data.templates import load_class_names


def write_wav(path, seconds=0.01, sr=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(np.zeros(int(sr * seconds), np.int16).tobytes())


def write_cifar(root, n=6, names=None):
    base = root / "cifar-100-python"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    data = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # R plane, G plane, B plane
    fine = [0, 1, 99, 41, 1, 58][:n]
    split = {b"data": data, b"fine_labels": fine, b"coarse_labels": [0] * n,
             b"filenames": [f"img_{i}.png".encode() for i in range(n)], b"batch_label": b"testing"}
    with open(base / "test", "wb") as f:
        pickle.dump(split, f, protocol=2)
    clip = load_class_names("cifar100_clip")
    raw = names or [c.replace(" ", "_") for c in clip]
    with open(base / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [c.encode() for c in raw],
                     b"coarse_label_names": [b"x"] * 20}, f, protocol=2)
    return images, fine


def test_cifar100_python_format(tmp_path):
    images, fine = write_cifar(tmp_path)
    ds = load_cifar100(tmp_path)
    np.testing.assert_array_equal(ds.items, images)  # channel planes decoded into H x W x 3
    assert ds.labels == ["apple", "aquarium fish", "worm", "lawn mower", "aquarium fish", "pickup truck"]
    assert list(ds.label_indices()) == fine and len(ds.class_names) == 100
    assert ds.ids[0] == "img_0.png"
    m = ds.to_manifest()
    assert m.kind == "array" and m.labels == ds.labels
    assert load_cifar100(tmp_path / "cifar-100-python", class_names=None).class_names[1] == "aquarium fish"
    with pytest.raises(FileNotFoundError, match="train"):
        load_cifar100(tmp_path, split="train")


def test_cifar100_rejects_mismatched_names_and_code_in_pickles(tmp_path):
    clip = [c.replace(" ", "_") for c in load_class_names("cifar100_clip")]
    write_cifar(tmp_path / "a", names=["zebra"] + clip[1:])
    with pytest.raises(ValueError, match="CLIP list"):
        load_cifar100(tmp_path / "a")
    root = tmp_path / "b" / "cifar-100-python"
    root.mkdir(parents=True)

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    (root / "test").write_bytes(pickle.dumps({"data": Evil()}))
    (root / "meta").write_bytes(pickle.dumps({}))
    with pytest.raises(ValueError, match="refusing"):
        load_cifar100(tmp_path / "b")


def test_image_folder(tmp_path):
    from PIL import Image

    for cls in ("sea_lion", "tabby_cat"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / cls / f"{i}.png")
    ds = load_image_folder(tmp_path)
    assert ds.class_names == ["sea lion", "tabby cat"] and ds.labels == ["sea lion"] * 2 + ["tabby cat"] * 2
    ds2 = load_image_folder(tmp_path, class_names=["seal", "cat"])
    assert ds2.labels[-1] == "cat"
    with pytest.raises(ValueError, match="override"):
        load_image_folder(tmp_path, class_names=["one"])


def test_esc50(tmp_path):
    rows = [("1-100038-A-14.wav", 1, 14, "chirping_birds"), ("1-100210-A-36.wav", 1, 36, "vacuum_cleaner"),
            ("2-100648-A-43.wav", 2, 43, "chainsaw"), ("5-9032-A-0.wav", 5, 0, "dog")]
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for f, fold, tgt, cat in rows:
        lines.append(f"{f},{fold},{tgt},{cat},False,x,A")
        write_wav(tmp_path / "audio" / f)
    # fill the other targets so the class list is 0..49 (as in the real file)
    for t in range(50):
        if t not in (14, 36, 43, 0):
            lines.append(f"9-{t}-A-{t}.wav,3,{t},class_{t},False,x,A")
            write_wav(tmp_path / "audio" / f"9-{t}-A-{t}.wav")
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    ds = load_esc50(tmp_path)
    assert len(ds.class_names) == 50 and ds.class_names[14] == "chirping birds"
    assert ds.labels[:4] == ["chirping birds", "vacuum cleaner", "chainsaw", "dog"]
    assert ds.folds[:4] == [1, 1, 2, 5] and ds.items[0].endswith("audio/1-100038-A-14.wav")
    assert ds.to_manifest().columns["fold"][:4] == [1, 1, 2, 5]
    # a spreadsheet's UTF-8 byte-order mark does not hide the first column ("filename")
    meta = tmp_path / "meta" / "esc50.csv"
    meta.write_bytes(b"\xef\xbb\xbf" + meta.read_bytes())
    assert load_esc50(tmp_path).labels == ds.labels
    (tmp_path / "audio" / "5-9032-A-0.wav").unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        load_esc50(tmp_path)
    assert len(load_esc50(tmp_path, check_files=False)) == 50


def test_urbansound8k(tmp_path):
    classes = ["air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling",
               "engine_idling", "gun_shot", "jackhammer", "siren", "street_music"]
    lines = ["slice_file_name,fsID,start,end,salience,fold,classID,class"]
    for c, name in enumerate(classes):
        fold = 1 + c
        f = f"{100 + c}-{c}-0-0.wav"
        lines.append(f"{f},{100 + c},0.0,1.0,1,{fold},{c},{name}")
        write_wav(tmp_path / "audio" / f"fold{fold}" / f)
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "UrbanSound8K.csv").write_text("\n".join(lines) + "\n")
    ds = load_urbansound8k(tmp_path)
    assert ds.class_names[3] == "dog bark" and ds.folds == list(range(1, 11))
    assert ds.items[2].endswith("audio/fold3/102-2-0-0.wav")


def test_tut2017(tmp_path):
    meta, folds = [], {1: [], 2: []}
    for i, scene in enumerate(["beach", "city_center", "cafe/restaurant", "beach"]):
        f = f"audio/a{i:03d}_0_10.wav"
        meta.append(f"{f}\t{scene}\ta{i:03d}")
        write_wav(tmp_path / f)
        folds[1 + i % 2].append(f"{f}\t{scene}")
    (tmp_path / "meta.txt").write_text("\n".join(meta) + "\n")
    ds = load_tut2017(tmp_path)
    assert ds.class_names == ["beach", "cafe/restaurant", "city center"]
    assert ds.labels == ["beach", "city center", "cafe/restaurant", "beach"] and ds.folds is None
    (tmp_path / "evaluation_setup").mkdir()
    for k, rows in folds.items():
        (tmp_path / "evaluation_setup" / f"fold{k}_evaluate.txt").write_text("\n".join(rows) + "\n")
    assert load_tut2017(tmp_path).folds == [1, 2, 1, 2]
    (tmp_path / "meta.txt").write_text("just one column\n")
    with pytest.raises(ValueError, match="expected"):
        load_tut2017(tmp_path)


def test_freesound_source_ids_of_esc50_and_urbansound8k(tmp_path):
    from pairspace.data.datasets.audio_sets import freesound_id_of_esc50

    assert freesound_id_of_esc50("1-100038-A-14.wav") == "100038"
    with pytest.raises(ValueError, match="not an ESC-50 file name"):
        freesound_id_of_esc50("dog.wav")
    esc = tmp_path / "esc"
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for t in range(50):
        f = f"{1 + t % 5}-{1000 + t}-A-{t}.wav"
        lines.append(f"{f},{1 + t % 5},{t},class_{t},False,{1000 + t},A")
    (esc / "meta").mkdir(parents=True)
    (esc / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    ds = load_esc50(esc, check_files=False)
    assert ds.source_ids[:2] == ["freesound:1000", "freesound:1001"]
    assert ds.to_manifest().columns["source_id"][49] == "freesound:1049"
    us = tmp_path / "us"
    lines = ["slice_file_name,fsID,start,end,salience,fold,classID,class"]
    for c in range(10):
        lines.append(f"{7061 + c}-6-0-0.wav,{7061 + c},0.0,1.0,1,1,{c},class_{c}")
    (us / "metadata").mkdir(parents=True)
    (us / "metadata" / "UrbanSound8K.csv").write_text("\n".join(lines) + "\n")
    ds = load_urbansound8k(us, check_files=False)
    assert ds.extra["fsID"][0] == "7061" and ds.source_ids[9] == "freesound:7070"
    assert set(ds.to_manifest().columns) == {"fold", "fsID", "source_id"}
    (us / "metadata" / "UrbanSound8K.csv").write_text("\n".join(lines[:2] + [
        "x.wav,abc,0,1,1,1,1,class_1"]) + "\n")
    with pytest.raises(ValueError, match=r"UrbanSound8K.csv:3: fsID 'abc'"):
        load_urbansound8k(us, check_files=False)


def test_tut2017_evaluation_set_layout(tmp_path):
    # DCASE 2017 task 1 evaluation set: evaluation_setup/evaluate.txt, no meta.txt, no folds
    rows = [("audio/1.wav", "beach"), ("audio/2.wav", "tram"), ("audio/3.wav", "cafe/restaurant")]
    (tmp_path / "evaluation_setup").mkdir()
    (tmp_path / "evaluation_setup" / "evaluate.txt").write_text(
        "".join(f"{f}\t{s}\n" for f, s in rows))
    (tmp_path / "evaluation_setup" / "test.txt").write_text("".join(f"{f}\n" for f, _ in rows))
    for f, _ in rows:
        write_wav(tmp_path / f)
    ds = load_tut2017(tmp_path)
    assert ds.ids == ["audio/1.wav", "audio/2.wav", "audio/3.wav"] and ds.folds is None
    assert ds.labels == ["beach", "tram", "cafe/restaurant"]
    assert ds.class_names == ["beach", "cafe/restaurant", "tram"]
    assert ds.to_manifest().columns == {"subset": ["evaluation"] * 3}
    # a meta.txt beside it (the evaluation meta package) is read the same way
    (tmp_path / "meta.txt").write_text("".join(f"{f}\t{s}\t-\n" for f, s in rows))
    assert load_tut2017(tmp_path).labels == ds.labels
    (tmp_path / "evaluation_setup" / "evaluate.txt").write_text("audio/1.wav\n")
    (tmp_path / "meta.txt").unlink()
    with pytest.raises(ValueError, match=r"evaluate.txt:1: expected"):
        load_tut2017(tmp_path)
    with pytest.raises(FileNotFoundError, match="meta.txt .* evaluation_setup/evaluate.txt"):
        load_tut2017(tmp_path / "nowhere")
