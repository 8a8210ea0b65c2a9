microconv('init', { meta: { events: 'standard' } });
