microconv('init', { batch: { size: 1 } });
