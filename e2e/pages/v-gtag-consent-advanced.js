if (/[?&]advanced=1\b/.test(location.search)) microconv('init', { gtag: { consentMode: 'advanced' } });
