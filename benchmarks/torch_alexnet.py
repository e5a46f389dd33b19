"""PyTorch twin of benchmarks/alexnet_step.dml: one SGD step of the same AlexNet, CPU, float64."""
import sys
import time

import torch
import torch.nn as nn


def alexnet(num_classes: int, h: int) -> nn.Sequential:
    feat = nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    with torch.no_grad():
        n = feat(torch.zeros(1, 3, h, h)).numel()
    return nn.Sequential(feat, nn.Flatten(), nn.Linear(n, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
                         nn.Linear(4096, num_classes))


def step_seconds(n=16, h=224, k=1000, dtype=torch.float64, repeat=3, device="cpu"):
    torch.manual_seed(0)
    model = alexnet(k, h).to(device=device, dtype=dtype)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.rand(n, 3, h, h, dtype=dtype, device=device)
    y = torch.randint(0, k, (n,), device=device)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[len(times[1:]) // 2]


if __name__ == "__main__":
    print(step_seconds(*(int(a) for a in sys.argv[1:4])))
