// Analytics granted; the ad purposes wait for the visitor's answer to a consent banner.
microconv('init', { consent: { analytics_storage: 'granted', ad_storage: 'pending', ad_user_data: 'pending', ad_personalization: 'pending' } });
// Tracked before the script (and so before the overlay) has loaded.
microconv('track', 'early_event', { source: 'stub' });
